"""A ReLU's derivative by hand, as a mask made a float."""
import torch

z = torch.tensor([1.5, -2.0, 0.5], requires_grad=True)
y = torch.relu(z).sum()
y.backward()
relu_grad = (z > 0).float()
print(torch.allclose(z.grad, relu_grad))
