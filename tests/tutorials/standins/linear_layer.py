# A layer made with nn.Linear: torch draws its weight and bias by its own scheme, which a case
# cannot repeat, so seeded draws of their shapes stand in and the formulas are checked
import torch
import torch.nn as nn

torch.manual_seed(0)
layer = nn.Linear(3, 2)
x = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.5, -1.0], [2.0, 0.25, 1.0], [-0.5, -1.0, 3.0]])
out = layer(x)
h = torch.tanh(out)
loss = (h ** 2).mean()
loss.backward()

dh = 2 * h / 8
dout = (1 - h ** 2) * dh
dW = dout.T @ x
db = dout.sum(0)
print(torch.allclose(dW, layer.weight.grad), torch.allclose(db, layer.bias.grad))
