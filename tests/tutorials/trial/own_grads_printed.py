"""Each node of a forward chain printed beside its own .grad (its value, no derivative by
hand), and the edges written by hand under their own names."""
import torch

x = torch.tensor(2.0, requires_grad=True)
a = 3 * x
a.retain_grad()
b = a ** 2
b.retain_grad()
b.backward()
print(f"x : {x} x.grad: {x.grad}")
print(f"a : {a} a.grad: {a.grad}")
print(f"b : {b} b.grad: {b.grad}")
db_da = 2 * a
da_dx = 3
print(f"db_dx: {db_da * da_dx}")
