"""Each gradient shown, then its formula by hand computed and shown: the name shown above
the next .grad is the one before's, never the next one's."""
import torch

w = torch.tensor(0.5, requires_grad=True)
b = torch.tensor(0.2, requires_grad=True)
o = torch.tanh(3 * w + b)
o.retain_grad()
loss = (o - 1) ** 2
loss.backward()
print(f"{o.grad=}")
dLdo = 2 * o - 2
print(f"{dLdo=}")
print(f"{w.grad=}")
dLdw = (2 * o - 2) * (1 - torch.tanh(3 * w + b) ** 2) * 3
print(f"{dLdw=}")
print(f"{b.grad=}")
dLdb = (2 * o - 2) * (1 - torch.tanh(3 * w + b) ** 2)
print(f"{dLdb=}")
