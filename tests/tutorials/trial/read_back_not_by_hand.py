"""Gradients read back from autograd and helpers named like gradients: none is by hand."""
import torch

t = torch.tensor(2.0, requires_grad=True)
y = t**3 + t
y.backward()
autograd_gradient = t.grad
grad_value = t.grad.item()
grad_copy = t.grad.clone()
grad_data = t.grad.data
first_grad, = torch.autograd.grad(t**2, t)


def get_grad(v): return v.grad.clone()
def mkgrad(v): return v.clone().requires_grad_(True)


def grad_of(f):
    return lambda v: f(v)


print(autograd_gradient)
# Out: tensor(13.)
