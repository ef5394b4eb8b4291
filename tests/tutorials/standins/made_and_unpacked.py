# Inputs made with torch.linspace, torch.arange and torch.tensor of a list written above, and
# sizes unpacked from a shape: each read as the script's own values, and its formulas checked
import torch

xs = torch.linspace(-2.0, 2.0, 5)
data = [[0.5, -1.0, 2.0, 1.5, -0.5], [1.0, 0.25, -2.0, 0.75, 3.0]]
W = torch.tensor(data, requires_grad=True)
ks = torch.arange(5)
k, n = W.shape
y = W * xs + ks
h = torch.tanh(y)
h.retain_grad()
y.retain_grad()
loss = (h ** 2).sum() / n
loss.backward()

dh = 2 * h / n
dy = (1 - h**2) * dh
dW = dy * xs
