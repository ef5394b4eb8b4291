"""A derivative by hand evaluated in numbers alone, kept in a name above, then shown just
below autograd's (models a quickstart's chain-rule preview, cos(1) * 2 at x = 1); a product
of numbers shown where no .grad is shown is no derivative."""
import torch

scale = 2 * 0.5
print(scale)
x = torch.tensor(1.0, requires_grad=True)
y = torch.sin(x ** 2)
y.backward()

manual = torch.cos(torch.tensor(1.0) ** 2) * 2 * 1.0
print(f"Chain rule gradient: {x.grad.item():.4f}")
print(f"Manual calculation: {manual.item():.4f}")
