"""The script a tutorial author writes instead of autograd-lab, for cases/mlp_backprop_ninja.yaml.

What makemore part 4 does by hand, and what a careful author adds: the forward pass in
float32 with every node's gradient retained, torch's backward, the hand-written backward
pass, makemore's `cmp()` on every node (exact, approximate, max difference), and
`torch.autograd.gradcheck(fast_mode=True)` of the loss in float64 over the float parameters.
The same sizes, draws and formulas as the case, so that `benchmarks/bench.py` can time the
two side by side (issue 29: the check at most 1.3x this script).

    python benchmarks/peer_mlp.py    # prints one cmp() line a node, then gradcheck's verdict
"""
# ruff: noqa: N803, N806  (the notebook's names: C, W1, Xb, ... are the math)
from __future__ import annotations

import torch
import torch.nn.functional as F

n, e, k, h, v = 32, 10, 3, 64, 27


def draw(shape, seed, scale=1.0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale


def parameters():
    C, W1, b1 = draw((v, e), 1), draw((k * e, h), 2, 0.3), draw((h,), 3, 0.1)
    W2, b2 = draw((h, v), 4, 0.1), draw((v,), 5, 0.1)
    bngain, bnbias = draw((1, h), 6, 0.1), draw((1, h), 7, 0.1)
    Xb = torch.randint(0, v, (n, k), generator=torch.Generator().manual_seed(8))
    Yb = torch.randint(0, v, (n,), generator=torch.Generator().manual_seed(9))
    return [C, W1, b1, W2, b2, bngain, bnbias], Xb, Yb


def forward(C, W1, b1, W2, b2, bngain, bnbias, Xb, Yb):
    emb = C[Xb]
    embcat = emb.view(n, -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5)**-0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    hh = torch.tanh(hpreact)
    logits = hh @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    return loss, locals()


def backward(t):
    """The hand-written backward pass, as the case writes it (and the notebook)."""
    g = {}
    g["logprobs"] = -F.one_hot(t["Yb"], num_classes=v) / n
    g["probs"] = (1.0 / t["probs"]) * g["logprobs"]
    g["counts_sum_inv"] = (t["counts"] * g["probs"]).sum(1, keepdim=True)
    g["counts_sum"] = (-t["counts_sum"]**-2) * g["counts_sum_inv"]
    g["counts"] = t["counts_sum_inv"] * g["probs"] + torch.ones_like(t["counts"]) * g["counts_sum"]
    g["norm_logits"] = t["counts"] * g["counts"]
    g["logit_maxes"] = (-g["norm_logits"]).sum(1, keepdim=True)
    g["logits"] = g["norm_logits"] + F.one_hot(t["logits"].max(1).indices,
                                               num_classes=v) * g["logit_maxes"]
    g["hh"] = g["logits"] @ t["W2"].T
    g["W2"] = t["hh"].T @ g["logits"]
    g["b2"] = g["logits"].sum(0)
    g["hpreact"] = (1.0 - t["hh"]**2) * g["hh"]
    g["bngain"] = (t["bnraw"] * g["hpreact"]).sum(0, keepdim=True)
    g["bnraw"] = t["bngain"] * g["hpreact"]
    g["bnbias"] = g["hpreact"].sum(0, keepdim=True)
    g["bnvar_inv"] = (t["bndiff"] * g["bnraw"]).sum(0, keepdim=True)
    g["bnvar"] = (-0.5 * (t["bnvar"] + 1e-5)**-1.5) * g["bnvar_inv"]
    g["bndiff2"] = (1.0 / (n - 1)) * torch.ones_like(t["bndiff2"]) * g["bnvar"]
    g["bndiff"] = t["bnvar_inv"] * g["bnraw"] + (2 * t["bndiff"]) * g["bndiff2"]
    g["bnmeani"] = (-g["bndiff"]).sum(0)
    g["hprebn"] = g["bndiff"] + 1.0 / n * (torch.ones_like(t["hprebn"]) * g["bnmeani"])
    g["embcat"] = g["hprebn"] @ t["W1"].T
    g["W1"] = t["embcat"].T @ g["hprebn"]
    g["b1"] = g["hprebn"].sum(0)
    g["emb"] = g["embcat"].view(n, k, e)
    g["C"] = F.one_hot(t["Xb"].view(-1), num_classes=v).T.float() @ g["emb"].view(-1, e)
    return g


def cmp(name, dt, t):
    """makemore's cmp(): exact, approximate, and the largest difference."""
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f"{name:15s} | exact: {ex!s:5s} | approximate: {app!s:5s} | maxdiff: {maxdiff}")
    return app


def main() -> bool:
    params, Xb, Yb = parameters()
    for p in params:
        p.requires_grad_()
    loss, t = forward(*params, Xb, Yb)
    for node in t.values():
        if isinstance(node, torch.Tensor) and node.requires_grad and not node.is_leaf:
            node.retain_grad()
    loss.backward()
    agree = all(cmp(name, grad, t[name]) for name, grad in backward(t).items())
    doubles = [p.detach().double().requires_grad_() for p in params]
    checked = torch.autograd.gradcheck(lambda *ps: forward(*ps, Xb, Yb)[0], doubles,
                                       fast_mode=True)
    print(f"gradcheck: {checked}")
    return agree and checked


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
