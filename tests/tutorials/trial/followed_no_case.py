"""Derivatives by hand inside a function that returns nothing, called and followed, of a
graph whose backward() the draft leaves out (max() of a tensor and a number)."""
import torch

w = torch.tensor(1.0, requires_grad=True)
x = torch.tensor(2.0, requires_grad=True)
u = w * x
a = max(u, 0)


def analytical_gradient():
    dx = w
    dw = x
    print(f"dx: {dx} dw: {dw}")


analytical_gradient()
a.backward()
print(f"dx: {x.grad} dw: {w.grad}")
