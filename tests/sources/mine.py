# A user's own functions, checked by the API in the tests (read from source, never traced).
import math

import torch


def f(x, y):
    z = x * y
    return math.sin(z) + y ** 2


def grad_f(x, y):
    return y * math.cos(x * y), x * math.cos(x * y) + 2 * y


def grad_f_wrong(x, y):
    return y * math.cos(x * y), x * math.cos(x * y) + y


class Legendre(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def mse(w, X):  # noqa: N803  (a matrix named as the mathematics names it)
    return torch.mean((X @ w) ** 2)


def grad_mse_without_the_mean(w, X):  # noqa: N803
    return 2 * X.T @ (X @ w)
