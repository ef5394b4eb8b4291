"""A chain rule written by hand for some edges of the graph only."""
import torch

w = torch.tensor(-0.5, requires_grad=True)
x = torch.tensor(2.0)
u = w * x
v = 1 / (1 + torch.exp(-u))
v.backward()
du_dw = x
print(w.grad)
# Out: tensor(0.3932)
