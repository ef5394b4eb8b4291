"""A gradient by hand from x.item() under a name that says not of what, printed beside
nothing autograd computed: left out, saying why."""
import torch

x = torch.tensor(4.0, requires_grad=True)
f = x ** 2
f.backward()
manual_grad = 2 * x.item()
print("Manual grad:", manual_grad)
