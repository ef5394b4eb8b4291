"""Gradients by hand under names that say nothing, paired with a .grad by the line that
compares them or prints them beside it (or just below it)."""
import torch

x = torch.tensor([1.0, 2.0, 3.0])
t = torch.tensor([2.0, 4.5, 5.5])
w = torch.tensor(0.5, requires_grad=True)
b = torch.tensor(0.1, requires_grad=True)
u = torch.tensor([0.3, -0.2], requires_grad=True)
y = w * x + b
loss = ((y - t) ** 2).mean() + (u ** 3).sum()
loss.backward()
slope = 2 * ((y - t) * x).mean()
offset = 2 * (y - t).mean()
cubes = 3 * u ** 2
print(torch.allclose(w.grad, slope))
print(offset, b.grad.item())
print(u.grad.eq(cubes).all())
