"""Two exercises on an x each: the second's gradient by hand, printed just below
autograd's, is the second x's, never checked against the first graph."""
import torch

x = torch.tensor(1.0, requires_grad=True)
f = x ** 3 + 2 * x
f.backward()
print(x.grad)
x = torch.tensor(2.0, requires_grad=True)
y = torch.sin(x ** 2 + 1)
df_dx_manual = torch.cos(x ** 2 + 1) * 2 * x
y.backward()
auto = x.grad
print(f"autograd: {auto.item()}")
print(f"by hand: {df_dx_manual.item()}")
