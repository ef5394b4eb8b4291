"""Finite-difference estimates and a graph-drawing helper beside one derivative by hand: only
the derivative is counted (an estimate is measured, draw_dot draws)."""
import torch


def f(x):
    return x ** 3


def derivative(g, x, h=1e-5):
    return (g(x + h) - g(x)) / h


def grad_fd(x, eps=1e-4):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def df_dx(x):
    return 3 * x ** 2


def draw_dot(root):
    return root


x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward()
h = 0.001
slope = (f(2.0 + h) - f(2.0)) / h
dy_dx_estimate = (f(2.0 + h) - f(2.0 - h)) / (2 * h)
dq_dx = (x - 1) / x
print(x.grad, df_dx(2.0), derivative(f, 2.0), grad_fd(2.0))
print((f(2.0 + h) - f(2.0)) / h, x.grad)
