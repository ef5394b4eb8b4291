"""Every edge's partial by hand, then the total put together for x alone (models a script
of a manual backward pass beside autograd): y's and z's totals are not given."""
import torch

x = torch.tensor(2.0, requires_grad=True)
y = torch.tensor(3.0, requires_grad=True)
z = torch.tensor(5.0, requires_grad=True)
a = 2 * x
b = torch.sin(y)
c = a / b
d = c * z
f = torch.tanh(d)

df_dd = 1 - torch.tanh(d) ** 2
dd_dz = c
dd_dc = z
dc_db = -a / b ** 2
dc_da = 1 / b
db_dy = torch.cos(y)
da_dx = 2
df_dx = df_dd * dd_dc * dc_da * da_dx
print("Manually, df_dx = ", df_dx)

f.backward()
print("By Autograd, df_dx = ", x.grad)
