# %% [markdown]
# # The chain rule, cell by cell
# A script in percent cells, as VS Code and Spyder run it; what each cell printed
# is shown in the comment after it.

# %%
import torch

x = torch.tensor(3.0, requires_grad=True)
y = x**2 + 2*x

# %%
y.backward()
print(x.grad)
# Out: tensor(8.)

# %%
dy_dx = 2*x + 2
print(dy_dx)
# Out:
# tensor(8., grad_fn=<AddBackward0>)
