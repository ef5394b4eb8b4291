"""Derivatives put together edge by edge from plain numbers, and their totals shown."""
import math

import torch

x = 0.5
y = 2 * x + 1
z = math.tanh(y)
dy_dx = 2.0
dz_dy = 1 - z ** 2
print(f"dz/dx = {dz_dy * dy_dx:.6f}")
print(f"again: {dz_dy * dy_dx:.6f}")
xt = torch.tensor(x, requires_grad=True)
torch.tanh(2 * xt + 1).backward()
print(xt.grad.item())
dL_do1 = 2 * z
do1_dw = 3 * x
dL_do2 = 4 * z
do2_dw = 5 * x
dL_dw = dL_do1 * do1_dw + dL_do2 * do2_dw
print(dL_do1 * do1_dw)
total = dL_do2 * do2_dw * 2
print(total - x)
