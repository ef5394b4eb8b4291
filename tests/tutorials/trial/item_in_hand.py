"""A gradient by hand from x.item(), compared with x.grad.item()."""
import torch

x = torch.tensor(3.0, requires_grad=True)
f = 7 * x ** 2
f.backward()
manual_gradient = 14 * x.item()
print(x.grad.item() == manual_gradient)
