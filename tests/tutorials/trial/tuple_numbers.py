"""Numbers given in one tuple assignment, then used by the graph and its derivative."""
import torch

scale, shift = 3.0, -1.0
x = torch.tensor(2.0, requires_grad=True)
y = scale * x ** 2 + shift
y.backward()
dy_dx = 2 * scale * x
print(x.grad == dy_dx)
