"""Gradients kept in names that say of which tensor (grad_w, manual_b_grad), compared."""
import torch

x = torch.tensor([1.0, 2.0, 3.0])
t = torch.tensor([2.0, 4.5, 5.5])
w = torch.tensor(0.5, requires_grad=True)
b = torch.tensor(0.1, requires_grad=True)
y = w * x + b
loss = ((y - t) ** 2).mean()
loss.backward()
analytic_grad_w = 2 * ((y - t) * x).mean()
manual_b_grad = 2 * (y - t).mean()
assert torch.allclose(w.grad, analytic_grad_w)
assert torch.allclose(b.grad, manual_b_grad)
