"""A gradient function compared with autograd's inside an if the draft does not follow."""
import torch


def f(theta):
    return theta[0] ** 3 * theta[1] ** 2


def gradf(theta):
    return torch.stack([3 * theta[0] ** 2 * theta[1] ** 2, 2 * theta[0] ** 3 * theta[1]])


theta = torch.tensor([2.0, 3.0], requires_grad=True)
f(theta).backward()
if torch.allclose(gradf(theta), theta.grad):
    print("the same")
