"""A function and its derivative named f and fp (models the UW tutorial many courses copy):
a graph of leaves a and b first, then fp(x), f's derivative by hand at x, printed above
autograd's x.grad (the leaf it is called on says whose gradient it is)."""
import torch


def f(x):
    return (x - 2) ** 2


def fp(x):
    return 2 * (x - 2)


a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
e = (a + b) * (b + 1)
print("e", e)

x = torch.tensor([1.0], requires_grad=True)
y = f(x)
y.backward()
print("Analytical f'(x):", fp(x))
print("PyTorch's f'(x):", x.grad)
