"""A derivative kept in a name and compared with autograd's by a test's own assert method."""
import unittest

import torch

t = unittest.TestCase()
x = torch.ones(2, 2, requires_grad=True)
y = x * x * 9
y.sum().backward()
z = x * 18
t.assertTrue(torch.equal(z, x.grad))
w = x + 1
print(w, x.grad)
