"""
A Gentle Introduction to ``torch.autograd``
===========================================

Written for autograd-lab's tests in the style of PyTorch's blitz tutorial
(beginner_source/blitz/autograd_tutorial.py, BSD-3-Clause): a sphinx-gallery script,
whose text lives in comment blocks between the code.
"""
import torch

######################################################################
# Differentiation in Autograd
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~
# Let's take a look at how ``autograd`` collects gradients. We create two
# tensors ``a`` and ``b`` with ``requires_grad=True``.

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

######################################################################
# We create another tensor ``Q`` from ``a`` and ``b``.
#
# .. math::
#    Q = 3a^3 - b^2

Q = 3*a**3 - b**2

######################################################################
# ``Q`` is a vector, so we pass a ``gradient`` argument to ``Q.backward()``:
# the gradient of Q with respect to itself.

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

######################################################################
# Gradients are now deposited in ``a.grad`` and ``b.grad``.

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)
