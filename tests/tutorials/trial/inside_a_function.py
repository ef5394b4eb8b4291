"""Derivatives written by hand inside a function the tutorial calls from main()."""
import torch


def backprop_by_hand():
    w = torch.tensor(1.5, requires_grad=True)
    x = torch.tensor(2.0)
    loss = (w * x - 1) ** 2
    loss.backward()
    dLdw = 2 * (w * x - 1) * x
    print(dLdw, w.grad)


def main():
    backprop_by_hand()


main()
