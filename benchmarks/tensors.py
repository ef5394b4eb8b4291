"""The tensor figures of the benchmark (issue 14's two targets), each beside its reference in
one run:

- the exercise-sized MLP (cases/mlp_backprop_ninja.yaml: batch 32, 4,137 parameters,
  batchnorm) checked by the whole `autograd-lab check` process, against
  `python -c "import torch, sympy"`: at most 3x; and against the script a tutorial author
  writes instead (benchmarks/peer_mlp.py), whole process beside whole process: at most 1.3x;
- a 1000x1000 tanh(X @ W).mean() with a hand-written dW, checked in a warm process, against
  torch's own forward and backward of the same expression (imports excluded in both): at most
  3x the time and 3x the peak memory. torch runs its reference on one thread, as the CLI runs
  the check (a second thread would halve both alike); CPU seconds are printed beside. Both
  sides are timed on their first pass at this size, in a process warmed up on a small one, and
  both draw their inputs inside it (the case draws them: torch's reference does too): each
  pays the first touch of its fresh memory alike, and its peak is the rise over the level
  after the warm-up.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("torch_matrix",)
MATRIX = """\
name: tanh_matrix
dims: {{n: {n}, m: {n}}}
inputs:
  X: {{value: {{randn: [n, m], seed: 0}}}}
  W: {{value: {{randn: [m, m], seed: 1, scale: 0.03}}, grad: true}}
forward:
  Z: X @ W
  H: torch.tanh(Z)
  loss: H.mean()
backward:
  dH: torch.ones_like(H) / (n*m)
  dZ: (1 - H**2) * dH
  dW: X.T @ dZ
"""

# issue 29's memory case: within every bound on inputs and nodes, 60 products of a 10^7-element
# input had kept 59 intermediates alive in autograd (5.1 GB); the parts of an expression now
# count against the values bound (40,000,000 values, docs/security.md), so it is refused, and
# a case at the bound (x, its square's parts and dx: 30,000,001 values) is checked
CHAIN = """\
name: {name}
dims: {{n: 10000000}}
inputs:
  x: {{value: {{randn: [n], seed: 0}}, grad: true}}
forward:
  y: ({product}).sum()
backward:
  dx: {dx}
"""
BOUND_MB = 40_000_000 * 8 / 2**20   # the values bound, in float64


def chain_files(tmp: Path) -> tuple[Path, Path]:
    """(a case at the values bound, the 60-product chain it refuses)."""
    at = tmp / "chain_at_the_bound.yaml"
    at.write_text(CHAIN.format(name="chain_at_the_bound", product="x * x", dx="2 * x"))
    refused = tmp / "chain_of_60_products.yaml"
    refused.write_text(CHAIN.format(name="chain_of_60_products", product=" * ".join(["x"] * 60),
                                    dx="60 * x**59"))
    return at, refused


def matrix_file(tmp: Path, n: int) -> Path:
    path = tmp / f"tanh_matrix_{n}.yaml"
    path.write_text(MATRIX.format(n=n))
    return path


def prepare(kind: str, arg: str):
    """A measurement of torch's own: the same draws, then forward and backward."""
    import torch
    torch.set_num_threads(1)

    def work(n: int) -> None:
        x = torch.randn(n, n, generator=torch.Generator().manual_seed(0)).double()
        w = (torch.randn(n, n, generator=torch.Generator().manual_seed(1)) * 0.03).double()
        w.requires_grad_()
        torch.tanh(x @ w).mean().backward()
        assert w.grad is not None
    work(10)
    return lambda: work(int(arg))


def run(b, quick: bool) -> None:
    from benchmarks.bench import _cli, _row, _s, _title
    _title("5. Tensors: the exercise-sized MLP, whole process, vs import torch, sympy")
    exe = _cli()
    ninja = str(ROOT / "cases" / "mlp_backprop_ninja.yaml")
    imported, checked = b.pair(
        lambda: b.command(sys.executable, "-c", "import torch, sympy"),
        lambda: b.command(*exe, "check", ninja, "--out", "ninja"))
    r, c = checked["seconds"] / imported["seconds"], checked["cpu"] / imported["cpu"]
    _row("command", "seconds", "cpu", "ratio", "cpu ratio")
    _row("import", _s(imported["seconds"]), _s(imported["cpu"]), "1x", "1x")
    _row("check", _s(checked["seconds"]), _s(checked["cpu"]), f"{r:.2f}x", f"{c:.2f}x")
    b.target("5. MLP exercise check vs import torch, sympy", f"{r:.2f}x", "<= 3x", r <= 3)

    _title("5b. Tensors: the same MLP, whole `autograd-lab check` vs the script a tutorial "
           "author writes instead (benchmarks/peer_mlp.py: forward, backward, the hand-written "
           "backward, cmp() on every node, gradcheck(fast_mode=True) in float64)")
    peer, checked = b.pair(
        lambda: b.command(sys.executable, str(ROOT / "benchmarks" / "peer_mlp.py"), check=True),
        lambda: b.command(*exe, "check", ninja, "--out", "ninja"))
    r, c = checked["seconds"] / peer["seconds"], checked["cpu"] / peer["cpu"]
    _row("command", "seconds", "cpu", "ratio", "cpu ratio")
    _row("peer script", _s(peer["seconds"]), _s(peer["cpu"]), "1x", "1x")
    _row("check", _s(checked["seconds"]), _s(checked["cpu"]), f"{r:.2f}x", f"{c:.2f}x")
    b.target("5b. MLP exercise check vs the peer script", f"{r:.2f}x", "<= 1.3x", r <= 1.3)

    n = 300 if quick else 1000
    _title(f"6. Tensors: tanh(X @ W).mean(), {n}x{n}, hand-written dW, vs torch's own forward "
           "and backward (imports excluded)")
    path = matrix_file(b.tmp, n)
    ours, ref = b.pair(lambda: b.child("check_file", path),
                       lambda: b.child("torch_matrix", n))
    t, m = ours["seconds"] / ref["seconds"], ours["peak_mb"] / max(ref["peak_mb"], 0.1)
    c = ours["cpu"] / ref["cpu"]
    _row("", "ours s", "torch s", "ratio", "ours cpu", "torch cpu", "cpu ratio", "ours MB",
         "torch MB", "MB ratio")
    _row(n, _s(ours["seconds"]), _s(ref["seconds"]), f"{t:.2f}x", _s(ours["cpu"]),
         _s(ref["cpu"]), f"{c:.2f}x", f"{ours['peak_mb']:.0f}", f"{ref['peak_mb']:.0f}",
         f"{m:.2f}x")
    b.target(f"6. {n}x{n} matrix case vs torch (time)", f"{t:.2f}x", "<= 3x", t <= 3)
    b.target(f"6. {n}x{n} matrix case vs torch (memory)", f"{m:.2f}x", "<= 3x", m <= 3)
    b.target(f"6. {n}x{n} matrix case vs torch (memory, issue 29)", f"{m:.2f}x", "<= 2x",
             m <= 2)


    _title("7. Tensors: memory within the values bound (40,000,000 values; issue 29: <= 2 GB)")
    at, refused = chain_files(b.tmp)
    within, chain = b.pair(lambda: b.child("check_file", at),
                           lambda: b.child("check_file", refused))
    _row("case", "seconds", "peak MB", "bound MB")
    _row("(x * x).sum(), 10^7", _s(within["seconds"]), f"{within['peak_mb']:.0f}",
         f"{BOUND_MB:.0f}")
    _row("60 products, 10^7", _s(chain["seconds"]), f"{chain['peak_mb']:.0f}", "refused")
    worst = max(within["peak_mb"], chain["peak_mb"])
    b.target("7. peak within the values bound (issue 29)", f"{worst:.0f} MB", "<= 2 GB",
             worst <= 2048)
