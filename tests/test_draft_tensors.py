"""`autograd-lab draft` on tutorials written in matrices: small .ipynb notebooks in the style of
Karpathy's "Becoming a Backprop Ninja" (an MLP's forward pass, its manual backward pass, cmp()
lines), PyTorch's "A Gentle Introduction to torch.autograd" (Q.backward(gradient=...)) and
"Automatic Differentiation with torch.autograd" (x @ w + b with BCE on logits). The outputs are
what torch 2.x printed for these cells."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autograd_lab.api import CaseError, check_paths, load_case
from autograd_lab.check import check_file
from autograd_lab.draft import draft

from .notebooks import printed, shown, write_notebook

PARAMETERS = """n = 4 # a small batch
block_size = 3
n_embd = 2
n_hidden = 5
vocab_size = 7
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((vocab_size, n_embd), generator=g)
W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * 0.5
b1 = torch.randn(n_hidden, generator=g) * 0.1
W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.1
b2 = torch.randn(vocab_size, generator=g) * 0.1
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True"""

BATCH = """Xb = torch.randint(0, vocab_size, (n, block_size), generator=g)
Yb = torch.tensor([1, 0, 6, 3])"""

FORWARD = """emb = C[Xb]
embcat = emb.view(emb.shape[0], -1)
hpre = embcat @ W1 + b1
h = torch.tanh(hpre)
logits = h @ W2 + b2
logit_maxes = logits.max(1, keepdim=True).values
norm_logits = logits - logit_maxes
counts = norm_logits.exp()
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum**-1
probs = counts * counts_sum_inv
logprobs = probs.log()
loss = -logprobs[range(n), Yb].mean()
for p in parameters:
    p.grad = None
for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes,
          logits, h, hpre, embcat, emb]:
    t.retain_grad()
loss.backward()
loss"""

CMP = """def cmp(s, dt, t):
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f'{s:15s} | exact: {str(ex):5s} | approximate: {str(app):5s} | maxdiff: {maxdiff}')"""

BACKWARD = """dlogprobs = torch.zeros_like(logprobs)
dlogprobs[range(n), Yb] = -1.0/n
dprobs = (1.0 / probs) * dlogprobs
dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
dcounts = counts_sum_inv * dprobs
dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv
dcounts += torch.ones_like(counts) * dcounts_sum
dnorm_logits = counts * dcounts
dlogits = dnorm_logits.clone()
dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
dh = dlogits @ W2.T
dW2 = h.T @ dlogits
db2 = dlogits.sum(0)
dhpre = (1.0 - h**2) * dh
dembcat = dhpre @ W1.T
dW1 = embcat.T @ dhpre
db1 = dhpre.sum(0)
demb = dembcat.view(emb.shape)
dC = torch.zeros_like(C)
for k in range(Xb.shape[0]):
    for j in range(Xb.shape[1]):
        ix = Xb[k,j]
        dC[ix] += demb[k,j]"""

COMPARED = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits",
            "logit_maxes", "logits", "h", "W2", "b2", "hpre", "W1", "b1", "emb", "C"]
# what cmp() printed for the entries from hpre on (those before it: exact, maxdiff 0.0)
RIGHT = {"hpre": (False, True, "9.313225746154785e-10"),
         "W1": (False, True, "3.725290298461914e-09"),
         "b1": (False, True, "9.313225746154785e-10"),
         "emb": (False, True, "9.313225746154785e-10"),
         "C": (False, True, "1.862645149230957e-09")}
WRONG = {"hpre": (False, False, "0.05239138379693031"),
         "W1": (False, False, "0.11000238358974457"),
         "b1": (False, False, "0.03704904019832611"),
         "emb": (False, False, "0.05438904091715813"),
         "C": (False, False, "0.06752454489469528")}


def cmp_printed(after_h: dict) -> str:
    rows = [(name, *after_h.get(name, (True, True, "0.0"))) for name in COMPARED]
    return "".join(f"{name:15s} | exact: {exact!s:5s} | approximate: {close!s:5s} | "
                   f"maxdiff: {diff}\n" for name, exact, close, diff in rows)


def ninja(folder: Path, backward: str = BACKWARD, after_h: dict | None = None,
          forward: str = FORWARD, helpers: str = "", more: tuple = ()) -> Path:
    """folder/ninja.ipynb: the imports (and helpers), In [2] the parameters, In [3] the batch,
    In [4] the forward pass and the loss it showed, In [5] cmp, In [6] the backward pass,
    In [7] the cmp() lines and what they printed (RIGHT unless after_h); then more cells."""
    return write_notebook(
        folder / "ninja.ipynb",
        ("import torch\nimport torch.nn.functional as F" + helpers,),
        (PARAMETERS,), (BATCH,),
        (forward, shown("tensor(1.9316, grad_fn=<NegBackward0>)")),
        (CMP,), (backward,),
        ("\n".join(f"cmp('{name}', d{name}, {name})" for name in COMPARED),
         printed(cmp_printed(RIGHT if after_h is None else after_h))), *more)


def mlp(tmp_path, backward: str = BACKWARD, after_h: dict | None = None):
    done = draft(ninja(tmp_path, backward, after_h), tmp_path / "drafts")
    assert done.problems == []
    return done


def gradient_case(done, index: int = 0) -> tuple[dict, str, object]:
    written = [w for w in done.files if w.kind == "gradient"][index]
    text = written.path.read_text(encoding="utf-8")
    return yaml.safe_load(text), text, written


def test_an_mlp_and_its_manual_backward_draft_into_a_case_of_backward_entries(tmp_path):
    done = mlp(tmp_path)
    case, text, written = gradient_case(done)
    assert written.path.name == "ninja_loss_in4.yaml"
    assert case["dims"] == {"n": 4, "block_size": 3, "n_embd": 2, "n_hidden": 5, "vocab_size": 7}
    assert case["inputs"] == {
        "C": {"value": {"randn": ["vocab_size", "n_embd"], "seed": 2147483647}, "grad": True},
        "W1": {"value": {"randn": ["n_embd*block_size", "n_hidden"], "seed": 2147483648,
                         "scale": 0.5}, "grad": True},
        "b1": {"value": {"randn": ["n_hidden"], "seed": 2147483649, "scale": 0.1}, "grad": True},
        "W2": {"value": {"randn": ["n_hidden", "vocab_size"], "seed": 2147483650, "scale": 0.1},
               "grad": True},
        "b2": {"value": {"randn": ["vocab_size"], "seed": 2147483651, "scale": 0.1}, "grad": True},
        "Xb": {"value": {"randint": [0, "vocab_size"], "shape": ["n", "block_size"],
                         "seed": 2147483652}},
        "Yb": {"value": [1, 0, 6, 3], "dtype": "int64"}}
    assert case["forward"]["emb"] == "C[Xb]"
    assert case["forward"]["embcat"] == "emb.view(n, -1)"          # emb.shape[0] is the dim n
    assert case["forward"]["logit_maxes"] == "logits.max(1, keepdim=True).values"
    assert case["forward"]["loss"] == "-mean(logprobs[range(n), Yb])"
    assert case["output"] == "loss"
    assert "expect" not in case       # loss's printed value is drawn from other numbers here
    backward = case["backward"]
    assert list(backward) == ["dlogprobs", "dprobs", "dcounts_sum_inv", "dcounts_sum", "dcounts",
                              "dnorm_logits", "dlogit_maxes", "dlogits", "dh", "dW2", "db2",
                              "dhpre", "dembcat", "dW1", "db1", "demb", "dC"]   # as written
    # dC's loop over Xb's rows and columns, read as the sums it makes
    assert backward["dC"] == ("torch.zeros_like(C) + F.one_hot(Xb.view(-1), num_classes="
                              "vocab_size).T @ demb.view(-1, n_embd)")
    assert backward["dlogprobs"] == "-1.0 / n * F.one_hot(Yb, num_classes=vocab_size)"
    assert backward["dcounts"] == ("counts_sum_inv * dprobs + torch.ones_like(counts) * "
                                   "dcounts_sum")                       # the += folded in
    assert backward["dlogits"] == ("dnorm_logits.clone() + F.one_hot(logits.max(1).indices, "
                                   "num_classes=vocab_size) * dlogit_maxes")
    assert backward["dW2"] == "h.T @ dlogits"
    assert backward["demb"] == "dembcat.view(n, block_size, n_embd)"
    assert ("  dcounts: counts_sum_inv * dprobs + torch.ones_like(counts) * dcounts_sum  # In [6], "
            "line 5: dcounts = counts_sum_inv * dprobs; then In [6], line 7; compared at In [7], "
            "line 5: cmp printed exact: True | approximate: True | maxdiff: 0.0\n") in text
    assert ("  dlogprobs: \"-1.0 / n * F.one_hot(Yb, num_classes=vocab_size)\"  # In [6], line 1: "
            "dlogprobs = torch.zeros_like(logprobs); then In [6], line 2: dlogprobs[range(n), Yb] "
            "= -1.0/n; compared at In [7], line 1: cmp printed exact: True | approximate: True | "
            "maxdiff: 0.0\n") in text
    assert ("# The notebook compares its hand-written gradients with autograd's .grad (In [7] and "
            "on: cmp(),") in text
    notes = [str(n) for n in done.notes]
    assert ("In [2], line 8: not the notebook's numbers: W1 is the 2nd draw from g (seeded "
            "2147483647, In [2], line 6), which a case cannot draw (it draws each value from a "
            "fresh generator): seed 2147483648 stands in, and no number that depends on W1 is "
            "claimed") in notes
    assert not any(n.startswith("In [2], line 7") for n in notes)   # C: g's first draw, exact
    assert ("In [4], line 20: not checked: loss shows tensor(1.9316, grad_fn=<NegBackward0>): it "
            "depends on Xb, whose numbers are not the notebook's (In [3], line 1)") in notes
    assert not any("left out" in n and "dC" in n for n in notes)
    [result] = check_paths([written.path])
    assert result.status == "passed", result.problems
    assert [(b.name, b.status) for b in result.backward] == [(k, "passed") for k in backward]


def test_a_wrong_entry_of_the_backward_pass_fails_naming_it(tmp_path):
    done = mlp(tmp_path, BACKWARD.replace("dhpre = (1.0 - h**2) * dh", "dhpre = (1.0 - h) * dh"),
               WRONG)
    case, text, written = gradient_case(done)
    assert case["backward"]["dhpre"] == "(1 - h)*dh"
    assert ("The notebook itself printed approximate: False for dhpre (In [7], line 12), dW1 (In "
            "[7], line 13), db1 (In [7], line 14), demb (In [7], line 15), dC (In [7], line "
            "16).") in " ".join(
                line[2:] for line in text.splitlines() if line.startswith("# "))
    [result] = check_paths([written.path])
    assert result.status == "failed"
    assert result.problems[0].startswith("backward dhpre: hand-written (1 - h)*dh differs from "
                                         "the gradient of hpre (SymPy)")
    assert result.problems[0].endswith("its own formula is wrong: every d-name it uses (dh) is "
                                       "right")
    follows = {b.name: b.follows_from for b in result.backward if b.status == "failed"}
    assert follows == {"dhpre": None, "dembcat": "dhpre", "dW1": "dhpre", "db1": "dhpre",
                       "demb": "dhpre", "dC": "dhpre"}


def test_q_backward_with_an_external_gradient_drafts_upstream_and_the_tutorials_checks(tmp_path):
    path = write_notebook(
        tmp_path / "gentle.ipynb",
        ("import torch",),
        ("a = torch.tensor([2., 3.], requires_grad=True)\n"
         "b = torch.tensor([6., 4.], requires_grad=True)",),
        ("Q = 3*a**3 - b**2",),
        ("external_grad = torch.tensor([1., 1.])\nQ.backward(gradient=external_grad)",),
        ("# check if collected gradients are correct\nprint(9*a**2 == a.grad)\n"
         "print(-2*b == b.grad)", printed("tensor([True, True])\ntensor([True, True])\n")))
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []
    case, text, written = gradient_case(done)
    assert case["inputs"] == {"a": {"value": [2.0, 3.0], "grad": True},
                              "b": {"value": [6.0, 4.0], "grad": True}}
    assert case["forward"] == {"Q": "3*a**3 - b**2"}
    assert case["upstream"] == [1.0, 1.0]                   # external_grad's value
    assert case["gradient"] == {"a": "9*a**2", "b": "-2*b"}  # what the tutorial compares
    assert ("upstream: [1.0, 1.0]                    # In [4], line 2: "
            "Q.backward(gradient=external_grad); external_grad: In [4], line 1: external_grad = "
            "torch.tensor([1., 1.])\n") in text
    assert ("  a: 9*a**2                             # In [5], line 2: print(9*a**2 == a.grad) -> "
            "tensor([True, True])\n") in text
    [result] = check_paths([written.path])
    assert result.status == "passed", result.problems
    # the tutorial's comparison written wrong is a gradient entry that fails, named
    written.path.write_text(text.replace("  a: 9*a**2", "  a: 3*a**2"), encoding="utf-8")
    [result] = check_paths([written.path])
    assert result.status == "failed"
    assert result.problems[0].startswith("gradient a: manual gives")


AUTODIFF = """import torch

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)"""

GRADS = """tensor([[0.3313, 0.0626, 0.2530],
        [0.3313, 0.0626, 0.2530],
        [0.3313, 0.0626, 0.2530],
        [0.3313, 0.0626, 0.2530],
        [0.3313, 0.0626, 0.2530]])
tensor([0.3313, 0.0626, 0.2530])
"""


def test_x_at_w_plus_b_with_bce_on_logits_and_its_hand_written_backward(tmp_path):
    path = write_notebook(
        tmp_path / "autodiff.ipynb",
        (AUTODIFF,),
        ("loss.backward()\nprint(w.grad)\nprint(b.grad)", printed(GRADS)),
        ("dz = (torch.sigmoid(z) - y) / 3\ndw = x.view(-1, 1) @ dz.view(1, -1)\ndb = dz\n"
         "print(torch.allclose(dw, w.grad), torch.allclose(db, b.grad))", printed("True True\n")))
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []
    case, text, written = gradient_case(done)
    assert case["inputs"] == {"x": [1.0] * 5, "y": [0.0] * 3,
                              "w": {"value": {"randn": [5, 3], "seed": 0}, "grad": True},
                              "b": {"value": {"randn": [3], "seed": 1}, "grad": True}}
    assert case["forward"] == {"z": "torch.matmul(x, w) + b",
                               "loss": "F.binary_cross_entropy_with_logits(z, y)"}
    assert case["backward"] == {"dz": "(sigmoid(z) - y)/3",
                                "dw": "x.view(-1, 1) @ dz.view(1, -1)", "db": "dz"}
    assert "expect" not in case       # w and b are not the notebook's draws: w.grad is not claimed
    assert ("  dw: \"x.view(-1, 1) @ dz.view(1, -1)\"  # In [3], line 2: dw = x.view(-1, 1) @ "
            "dz.view(1, -1); compared at In [3], line 4: torch.allclose(dw, w.grad) printed "
            "True\n") in text
    notes = [str(n) for n in done.notes]
    assert ("In [1], line 5: not the notebook's numbers: w is drawn from torch's global generator, "
            "never seeded (torch.manual_seed), which a case cannot draw (it draws each value from "
            "a fresh generator): seed 0 stands in, and no number that depends on w is claimed"
            ) in notes
    assert ("In [2], line 2: not checked: w.grad shows tensor([[0.3313, 0.0626, 0.2530],\\n        "
            "[0.3313, 0.0626, …: the graph of loss holds w, whose numbers are not the notebook's "
            "(In [1], line 5)") in notes
    [result] = check_paths([written.path])
    assert result.status == "passed", result.problems


def test_draws_the_case_can_reproduce_keep_the_notebooks_numbers_as_claims(tmp_path):
    path = write_notebook(
        tmp_path / "linear.ipynb",
        ("import torch\nimport torch.nn.functional as F\ntorch.manual_seed(42)\n"
         "X = torch.randn(4, 3)\n"
         "W = torch.randn(3, 2, generator=torch.Generator().manual_seed(1)).requires_grad_()\n"
         "gen = torch.Generator().manual_seed(7)\n"
         "b = (torch.randn(2, generator=gen) * 0.5 / 2).requires_grad_()\n"
         "y = torch.tensor([1, 0, 1, 1])",),
        ("logits = X @ W + b\nloss = F.cross_entropy(logits, y)\nloss.backward()\n"
         "print(loss.item())\nW.grad",
         printed("0.6680095195770264\n"),
         shown("tensor([[ 0.4269, -0.4269],\n        [ 0.0510, -0.0510],\n"
               "        [ 0.1932, -0.1932]])")),
        ("dlogits = (F.softmax(logits, 1) - F.one_hot(y, num_classes=2)) / 4\n"
         "dW = X.T @ dlogits\ndb = dlogits.sum(0)",))
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []
    case, _, written = gradient_case(done)
    assert case["inputs"] == {
        "X": {"value": {"randn": [4, 3], "seed": 42}},   # torch.manual_seed(42), first draw
        "W": {"value": {"randn": [3, 2], "seed": 1}, "grad": True},
        "b": {"value": {"randn": [2], "seed": 7, "scale": 0.25}, "grad": True},
        "y": {"value": [1, 0, 1, 1], "dtype": "int64"}}
    assert case["expect"] == {"loss": 0.6680095195770264,
                              "grad/W": [[0.4269, -0.4269], [0.0510, -0.0510], [0.1932, -0.1932]]}
    assert case["backward"] == {
        "dlogits": "(F.softmax(logits, 1) - F.one_hot(y, num_classes=2)) / 4",
        "dW": "X.T @ dlogits", "db": "sum(dlogits, dim=0)"}
    assert [str(n) for n in done.notes if "b:" in str(n)] == [
        "In [1], line 7: b: the notebook scales in 2 float32 steps, the case multiplies once by "
        "0.25: the last bit of an element may differ"]
    [result] = check_paths([written.path])
    assert result.status == "passed", result.problems
    assert result.claims and all(c.status == "passed" for c in result.claims)


def test_a_tensor_graph_without_a_hand_written_derivative_lists_its_backward_entries(tmp_path):
    path = write_notebook(tmp_path / "autodiff.ipynb", (AUTODIFF,),
                          ("loss.backward()\nprint(w.grad)\nprint(b.grad)", printed(GRADS)))
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []
    [todo] = [w for w in done.files if w.to_write]
    assert todo.path.name == "autodiff_loss_in2.yaml.todo"
    assert todo.to_write == ["dz", "db", "dw"]          # backward order: z, then b and w
    text = todo.path.read_text(encoding="utf-8")
    assert yaml.safe_load(text)["backward"] == {"dz": None, "db": None, "dw": None}
    assert "chain_rule" not in yaml.safe_load(text)   # z = x @ w + b has no local edges
    assert ("  dz: ~                                 # to write: d(loss)/d(z), shape (3,); z = "
            "torch.matmul(x, w) + b\n") in text
    with pytest.raises(CaseError, match=r"autodiff_loss_in2.yaml.todo:\d+:\d+: backward entries "
                                        r"still to be written: dz, db, dw"):
        load_case(todo.path)


def test_sizes_named_once_stay_one_dim(tmp_path):
    """n = batch_size is the same size, not a second dim (which SymPy's reduced sizes would
    shrink apart); a size computed from dims is written as their product."""
    path = write_notebook(
        tmp_path / "sizes.ipynb",
        ("import torch\nbatch_size = 3\nn = batch_size\nn_in = 2 * n\n"
         "x = torch.randn(n, n_in, generator=torch.Generator().manual_seed(0))\n"
         "w = torch.randn(n_in, generator=torch.Generator().manual_seed(1), requires_grad=True)\n"
         "loss = (x @ w).sum() / n\nloss.backward()",),
        ("dw = x.sum(0) / batch_size",))
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []
    case, _, written = gradient_case(done)
    assert case["dims"] == {"batch_size": 3}
    assert case["inputs"]["x"] == {"value": {"randn": ["batch_size", "2*batch_size"], "seed": 0}}
    assert case["forward"] == {"loss": "sum(x @ w) / batch_size"}
    assert case["backward"] == {"dw": "sum(x, dim=0)/batch_size"}
    [result] = check_paths([written.path])
    assert result.status == "passed", result.problems


def test_the_one_line_cross_entropy_backward_subtracts_one_where_the_labels_are(tmp_path):
    """Karpathy's exercise 2: dlogits = softmax, minus 1 at each row's label, over n."""
    path = write_notebook(
        tmp_path / "fast.ipynb",
        ("import torch\nimport torch.nn.functional as F\nn = 4\nvocab_size = 5\n"
         "logits = torch.randn(n, vocab_size, generator=torch.Generator().manual_seed(0))\n"
         "logits.requires_grad = True\nYb = torch.tensor([1, 0, 4, 3])\n"
         "loss_fast = F.cross_entropy(logits, Yb)\nloss_fast.backward()\n"
         "print(loss_fast.item())", printed("2.232875347137451\n")),
        ("dlogits = F.softmax(logits, 1)\ndlogits[range(n), Yb] -= 1\ndlogits /= n",))
    done = draft(path, tmp_path / "drafts")
    assert done.problems == []
    case, text, written = gradient_case(done)
    assert case["dims"] == {"n": 4, "vocab_size": 5}
    assert case["forward"] == {"loss_fast": "F.cross_entropy(logits, Yb)"}
    assert case["backward"] == {"dlogits": "(F.softmax(logits, 1) - 1 * F.one_hot(Yb, "
                                           "num_classes=vocab_size)) / n"}
    assert ("# In [2], line 1: dlogits = F.softmax(logits, 1); then In [2], line 2: "
            "dlogits[range(n), Yb] -= 1; then In [2], line 3: dlogits /= n\n") in text
    assert case["expect"] == {"loss_fast": 2.232875347137451}
    [result] = check_paths([written.path])
    assert result.status == "passed", result.problems


def test_with_blocks_the_backward_pass_is_the_notebook_s_own_lines(tmp_path):
    done = draft(ninja(tmp_path), tmp_path / "drafts", blocks=True)
    assert done.problems == []
    case, text, written = gradient_case(done)
    block = case["backward"]
    assert isinstance(block, str)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    assert lines[:2] == ["dlogprobs = torch.zeros_like(logprobs)",
                         "dlogprobs[range(n), Yb] = -1.0/n"]        # verbatim, in its order
    assert "dcounts += torch.ones_like(counts) * dcounts_sum" in lines
    assert "  dlogprobs = torch.zeros_like(logprobs)" in text and "# In [6], line 1" in text
    result = check_file(written.path)
    assert result.status == "passed", result.problems
    assert {b.name for b in result.backward} >= {"dlogprobs", "dcounts", "dlogits", "demb"}
