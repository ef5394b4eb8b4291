"""y.backward() of a y of one element, shape (1,), inside a function called below (models a
script checking autograd on x = torch.randn(1)): dy is x's gradient by hand, as the
comparison x.grad == dy says, though it is spelled like y's own."""
import torch


def single_value():
    x = torch.randn(1, requires_grad=True)
    y = x ** 4
    y.backward()
    print(x.grad)
    dy = 4 * (x ** 3)
    print("manual computation of x grad: " + str(dy))
    print(x.grad == dy)


single_value()
