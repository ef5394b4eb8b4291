"""d2l's opening (models the book's autograd section): x.grad shown while still None, then
the function y computed and shown before y.backward() (the function's value, no derivative by
hand), then the gradient compared with the formula 4 * x (x's, by hand)."""
import torch

x = torch.arange(4.0)
x.requires_grad_(True)
print(x.grad)
y = 2 * torch.dot(x, x)
print(y)
y.backward()
print(x.grad)
print(x.grad == 4 * x)
