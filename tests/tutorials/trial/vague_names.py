"""Derivatives under names that do not say of what, compared or printed beside autograd's."""
import numpy as np
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward()
auto = x.grad
grad = 3 * x ** 2
manualGrad = 3 * x ** 2
my_gradient_here = 3 * x ** 2
print(my_gradient_here.eq(auto).all())
analytical = 3 * x ** 2
print("by hand:", analytical, "autograd:", x.grad)
t = 3 * x ** 2
print(np.isclose(t.item(), x.grad.item()))
dy_dx = 3 * x ** 2
manual_grad = dy_dx.item()
grads = [dy_dx, grad]
grad_fn = y.grad_fn


def pytorch_gradient(v):
    out = v ** 3
    out.backward()
    return {"value": out.item(), "grad": v.grad.numpy()}


print(pytorch_gradient(torch.tensor(1.0, requires_grad=True)))
