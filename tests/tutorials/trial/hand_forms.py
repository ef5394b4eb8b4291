"""Hand-written derivatives in the forms tutorials write them without comparing."""
import torch

w = torch.tensor(1.0, requires_grad=True)
x = torch.tensor(2.0)
t = torch.tensor(3.0)
loss = (w * x - t) ** 2
loss.backward()
print(w.grad, 2 * x * (w * x - t))
print("by autograd:", w.grad)
print(2 * x * (w * x - t))
dLdW = 2 * (w * x - t) * x
dydx = 2 * x
du_db = 1
out = w * x
out.g = 2 * (out - t)
w.g = out.g * x


def hand_gradients():
    dw = 2 * (w * x - t) * x
    dx = 2 * (w * x - t) * w
    dt = -2 * (w * x - t)
    print(dw, dx, dt)
