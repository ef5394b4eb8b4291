"""The function's value printed beside the gradient of x (a node of the graph, no derivative
by hand), then a formula no backward() ran through, printed beside it (x's, by hand)."""
import torch

x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward()
print(y, x.grad)
slope = 3 * x ** 2
print(slope, x.grad)
