"""backward() of an expression never named: y.sum().backward()."""
import torch

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
y.sum().backward()
print(x.grad == 2 * x)
