"""A derivative by hand, then autograd's, compared a few lines below; a second run after."""
import numpy as np
import torch


def df_dx(x):
    return 2*x + 2


x = 3.0
manual_grad = df_dx(x)
print(manual_grad)
# Out: 8.0
x_tensor = torch.tensor(3.0, requires_grad=True)
y = x_tensor**2 + 2*x_tensor + 1
y.backward()
print(np.isclose(manual_grad, x_tensor.grad.item()))
# Out: True
u = torch.tensor(1.0, requires_grad=True)
y = torch.sin(u**2)
y.backward()
