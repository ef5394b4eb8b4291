# f is a tensor first, then a helper function; df_dx is read while f names the function
import torch

x = torch.tensor(2.0, requires_grad=True)
f = x**2 + 3 * x
f.backward()
print(x.grad)


def f(x):
    return torch.sin(x**2 + 1)


x = torch.tensor(2.0, requires_grad=True)
y = f(x)
y.backward()
df_dx = torch.cos(x**2 + 1) * 2 * x
print(x.grad)
