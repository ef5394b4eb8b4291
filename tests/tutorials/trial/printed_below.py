"""Autograd's gradient printed, then the formula kept in a name, printed just below it."""
import torch

w = torch.tensor([-1.0, 1.0], requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
x = torch.tensor([1.0, 2.0])
n = x @ w + b
o = torch.tanh(n)
loss = (o - 0.8) ** 2
loss.backward()
print(f"{b.grad=}")
fo = 2 * o - 1.6
print(f"{fo.item()=}")
print("do/db")
fob = 1 - torch.tanh(n) ** 2
print(fob)
print(b.grad)
w_new = w - 0.1 * w.grad
print(w_new)
print(w.grad)
loss2 = (o - 0.5) ** 2
step = 1
print(loss2)
