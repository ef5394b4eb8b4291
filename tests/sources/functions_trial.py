# Custom autograd Functions as tutorials write them, right and wrong, written for the tests
# (after the shapes of mistakes an outside trial found). Read as text, never run.
# ruff: noqa: RUF059, PIE790  (an unused unpack and a `pass`, as tutorials write them)
import logging

import torch
from torch.autograd import Function


class Same(Function):
    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, g):
        return g


class Total(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a.sum()

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g


class Detach(Function):
    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, g):
        return None


class Logistic(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        s = 1 / (1 + torch.exp(-a))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        s, = ctx.saved_tensors
        grad_a = s + (1 - s) * g
        return grad_a


class Chatty(Function):
    @staticmethod
    def forward(ctx, a):
        print("forward got", type(a))
        ctx.save_for_backward(a, a)
        pass
        return a ** 2

    @staticmethod
    def backward(ctx, g):
        logging.info("backward")
        a, _ = ctx.saved_variables
        return 2 * a * g


class Scale(Function):
    @staticmethod
    def forward(ctx, a, w):
        ctx.save_for_backward(a, w)
        return a * w

    @staticmethod
    def backward(ctx, g):
        a, w = ctx.saved_tensors
        grad_a = g * w
        grad_w = g * a
        return grad_a, grad_w


class ScaleSummed(Function):
    @staticmethod
    def forward(ctx, a, w):
        ctx.save_for_backward(a, w)
        return a * w

    @staticmethod
    def backward(ctx, g):
        a, w = ctx.saved_tensors
        return g * w, (g * a).sum(0)


class MyReLU(torch.autograd.Function):
    """PyTorch's own tutorial: a copy of the upstream gradient, zeroed where input < 0."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input
