"""Operators spelled as torch functions and tensor methods."""
import torch

a = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
b = torch.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)
s = torch.add(a, b)
p = torch.mul(s, a)
q = p.mm(b)
r = q.sub(a).div(2.0)
out = torch.sum(r)
out.backward()
print(a.grad)
# Out: tensor([[-1.1250,  4.0000],
#         [-2.5000, 13.0000]])
