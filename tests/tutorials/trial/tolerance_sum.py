"""Gradients by hand compared with autograd's by a summed absolute difference under a
tolerance (models a test asserting torch.sum(torch.abs(grad_x - x.grad)) < 1e-6)."""
import torch

a = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
b = torch.tensor([1.5, 0.25, -0.5], requires_grad=True)
c = (a * b ** 2 + a ** 2).sum()
c.backward()
grad_a = b ** 2 + 2 * a
grad_b = 2 * a * b
assert torch.sum(torch.abs(grad_a - a.grad)) < 1e-6
assert torch.sum(torch.abs(b.grad - grad_b)) <= 1e-6
