# A lab script as students write it: autograd's derivative of a polynomial beside the
# hand-derived one. Read by the tests as text, never run.
import torch


def f(x):
    return 8*x**4 + 3*x**3 + 7*x**2 + 6*x + 3


def analytical_gradient(x):
    return 32*x**3 + 9*x**2 + 14*x + 6


x = torch.tensor(2.0, requires_grad=True)
y = f(x)
y.backward()
print("autograd:", x.grad.item())
print("by hand: ", analytical_gradient(2.0))
