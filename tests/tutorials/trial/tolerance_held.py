"""A gradient by hand compared with autograd's by a tolerance written out (models a sanity
check that keeps x.grad.detach().clone() and asserts (auto - manual).abs().max() < 1e-6)."""
import torch

torch.manual_seed(0)
x = torch.rand(2, 3, requires_grad=True)
y = (x ** 3).sum()
y.backward()
grad_auto = x.grad.detach().clone()
grad_manual = 3 * x.detach() ** 2
assert (grad_auto - grad_manual).abs().max() < 1e-6
