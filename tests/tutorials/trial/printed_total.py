"""Local derivatives by hand inside a function that returns nothing, put together and
printed under the name of the output's derivative by the leaf: x's gradient by hand."""
import torch

x = torch.tensor(2.0, requires_grad=True)
a = 3 * x
f = torch.sin(a)
f.backward()
print(f"x.grad: {x.grad}")


def analytical_gradient():
    df_da = torch.cos(a)
    da_dx = 3
    print(f"df_dx: {df_da * da_dx}")


analytical_gradient()
