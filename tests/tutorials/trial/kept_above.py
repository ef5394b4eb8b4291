"""A derivative by hand kept in a name above, then shown on the print line just below
autograd's (models a quickstart's chain-rule step): the draft pairs manual with x, so the
count counts it (it checked it while the count said 0 of 0)."""
import torch

x = torch.tensor(1.0, requires_grad=True)
y = torch.sin(x ** 2)
y.backward()

manual = torch.cos(x ** 2) * 2 * x  # dg/dx = cos(x^2) * 2x
print(f"Chain rule gradient: {x.grad.item():.4f}")
print(f"Manual calculation: {manual.item():.4f}")
