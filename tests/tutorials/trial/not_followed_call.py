"""Derivatives by hand inside a function called with a number: its body is not followed."""
import torch


def backprop_by_hand(start):
    w = torch.tensor(start, requires_grad=True)
    x = torch.tensor(2.0)
    loss = (w * x - 1) ** 2
    loss.backward()
    dLdw = 2 * (w * x - 1) * x
    print(dLdw, w.grad)


backprop_by_hand(1.5)
