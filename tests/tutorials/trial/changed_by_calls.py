"""A step of an optimizer, and a helper that scales a weight in place: both left out."""
import torch

w = torch.tensor(2.0, requires_grad=True)
v = torch.tensor(4.0, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.5)
loss = w**2
loss.backward()
opt.step()
print(w)
# Out: tensor(0., requires_grad=True)


def shrink(p):
    p.data.mul_(0.5)


shrink(v)
print(v)
# Out: tensor(2., requires_grad=True)
