"""Gradients add up over a loop of backward() calls; zero_() clears them."""
import torch

w = torch.tensor(2.0, requires_grad=True)
print(w.requires_grad)
# Out: True
for step in range(3):
    out = w**3 + step
    out.backward()
print(w.grad)
# Out: tensor(36.)
w.grad.zero_()
print(w.grad)
# Out: tensor(0.)
