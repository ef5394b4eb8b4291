"""A lab script whose work is under the main guard, checking gradients in ifs."""
import torch

if __name__ == "__main__":
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    w = torch.tensor(0.5, requires_grad=True)
    y = (w * x ** 2).sum()
    y.backward()
    if torch.allclose(x.grad, 2 * w * x):
        print("x.grad matches")
    if w.grad.eq((x ** 2).sum()):
        print("w.grad matches")
    b = torch.tensor(2.0, requires_grad=True)
    z = b ** 3
    z.backward()
    manual_b = 3 * b ** 2
    if torch.all(torch.eq(b.grad, manual_b)):
        print("b.grad matches")
