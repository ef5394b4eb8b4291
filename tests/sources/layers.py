# Layer classes as from-scratch network tutorials write them. Read by the tests as text.
import numpy as np


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        dx = dout * self.out * (1 - self.out)
        return dx

class Scale:
    def forward(self, x):
        self.x = x
        return self.w * x ** 2

    def backward(self, dout):
        self.dw = dout * self.x ** 2
        return dout * 2 * self.w * self.x

class Linear:
    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
