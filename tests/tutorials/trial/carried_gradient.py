"""A gradient read after its name was made again: the case that shows it starts later."""
import torch

w = torch.tensor(3.0, requires_grad=True)
out = w**2
out.backward()
out = torch.tensor(7.0)
print(w.grad)
# Out: tensor(6.)
w.grad.zero_()
print(out)
# Out: tensor(7.)
