"""A gradient by hand written with x.detach() (models a sanity check of autograd on random
data): x.detach() is x's value, cut from the graph, as x.item() is."""
import torch

torch.manual_seed(0)
x = torch.rand(2, 3, requires_grad=True)
y = (x ** 2).sum()
y.backward()
manual = 2 * x.detach()
print(torch.allclose(manual, x.grad))
