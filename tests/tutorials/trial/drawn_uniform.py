"""Inputs drawn by torch.rand, a gradient by hand compared with .eq."""
import torch

real = torch.rand(3, 4)
predicted = torch.rand(3, 4, requires_grad=True)
loss = (predicted - real).pow(2).sum()
loss.backward()
with torch.no_grad():
    manual = 2.0 * (predicted - real)
print(manual.eq(predicted.grad).all())
