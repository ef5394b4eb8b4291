"""What a notebook's comparisons claim, read before the walk. `cmp('logprobs', dprobs_log,
logprobs)` says that `dprobs_log` is the hand-written gradient of `logprobs`, whatever the
student named it. A student's fork spells its d-names its own way (`dprobs_log`, `dcounts_`,
`dlogits_fast`) and keeps the pieces of a sum apart (`dcounts_1 + dcounts_2`); the comparison
is the claim, so it names the entry. A name compared with two different tensors claims
nothing (it is ambiguous).

So does a name compared with a leaf's `.grad`, or printed beside it or on the print line just
below it: `torch.allclose(w.grad, analytic_grad_w)`, `x.grad.eq(manual)`, `print(fb,
b.grad)`, `print(w.grad); print(analytical)`, `print(w.grad); fw = ...; print(fw)`: the name
is that leaf's gradient by hand (as `dw = ...` is). The count (_count) finds these pairs by
the same rule (pairs())."""
from __future__ import annotations

import ast
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ..case import dotted_name
from ._adjoints import compares, grad_compared
from ._layers import linear_layers, rewritten

COMPARERS = ("allclose", "isclose", "equal", "assert_close", "eq")
# a test's own comparers: assertEqual, tensorAssertEqual, assert_allclose
ASSERTS = re.compile(r"assert|equal$|close$", re.IGNORECASE)
MODULES = ("torch", "np", "numpy", "math", "self", "torch.testing", "np.testing",
           "numpy.testing", "unittest", "pytest")   # allclose's receiver, never a side
READ_BACK = ("item", "clone", "detach", "cpu", "numpy", "tolist", "t")   # x.grad.item(): the
# same value, read back (W.grad.t() and W.grad.T too: the same numbers, laid out again)
FLIPS = ("t", "T")
# (a - b).abs().max() < tol, torch.sum(torch.abs(a - b)) < tol, (a - b).norm() < tol: the size
# of a difference held under a tolerance compares a with b; abs or a norm must size it (the
# largest of a signed difference says nothing of how close the two are)
MEASURES = ("abs", "norm", "max", "sum", "item")
SIZES = ("abs", "norm")
MEASURED = {"abs", "max", "sum"} | {f"{module}.{measure}" for measure in MEASURES
                                     for module in ("torch", "np", "numpy", "math",
                                                    "torch.linalg", "np.linalg")}
AS_TENSOR = ("torch.from_numpy", "torch.tensor", "torch.as_tensor")   # the same numbers


@dataclass(frozen=True)
class Pair:
    """A name compared with a .grad (or printed beside one): how, and whose .grad."""

    name: str
    leaf: str          # the tensor whose .grad it is compared with ("" when not known)
    how: str           # "compared" or "printed"
    same_way: bool     # both sides transposed alike (w.grad.T with h.T, not with h)
    below: int = 0     # the line of the print just below a .grad that pairs it (_below)


Place = tuple[int, int]   # (which tree, line): the order a notebook's cells read in


class Forward:
    """The names that, where a line shows them, hold a value a backward() ran through: y of
    `y = x ** 3; y.backward(); print(y, x.grad)` (the function's value shown beside the
    gradient), and each name y was computed from, leaves too. Printed beside a .grad, such a
    name shows a node of the graph autograd differentiated, not a derivative of it by hand;
    compared with one it is still claimed (d2l's `z = u * x; z.sum().backward(); x.grad ==
    u`), and `z = x * 18; print(z, x.grad)` still pairs z, which no backward() ran through.
    Read in line order (a loop's or a function's lines as written): a name given again after
    the backward() holds a new value."""

    def __init__(self, trees: Iterable[ast.AST]):
        # name -> each assignment to it: (where, the names its value reads)
        self.bound: dict[str, list[tuple[Place, set[str]]]] = {}
        ran: list[tuple[str, Place]] = []
        for index, tree in enumerate(trees):
            for node in ast.walk(tree):
                place = (index, getattr(node, "lineno", 0))
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) \
                        and node.value is not None:
                    reads = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
                    for target in _names(node):
                        self.bound.setdefault(target, []).append(
                            (place, reads | ({target} if isinstance(node, ast.AugAssign)
                                             else set())))
                elif isinstance(node, ast.Call):
                    ran += [(name, place) for name in _differentiated(node)]
        for binds in self.bound.values():
            binds.sort(key=lambda bind: bind[0])
        self.places = {name: [bind[0] for bind in binds] for name, binds in self.bound.items()}
        self.values: set[tuple[str, Place]] = set()   # (name, where it was given) ran through
        for name, place in ran:
            self._run_through(name, place)
        self.names = {name for name, _ in self.values}

    def _binding(self, name: str, place: Place) -> tuple[Place, set[str]] | None:
        """The assignment name holds at place: the last one above it."""
        above = bisect_left(self.places.get(name, []), place)
        return self.bound[name][above - 1] if above else None

    def _run_through(self, name: str, place: Place) -> None:
        todo = [(name, place)]
        while todo:
            name, place = todo.pop()
            bind = self._binding(name, place)
            if bind is None or (name, bind[0]) in self.values:
                continue
            self.values.add((name, bind[0]))
            todo += [(read, bind[0]) for read in bind[1]]

    def of(self, index: int) -> Callable[[int], frozenset[str]]:
        """at() on tree index's lines."""
        return lambda line: self.at(index, line)

    def at(self, index: int, line: int) -> frozenset[str]:
        """The names a backward() ran through, as they stand on tree index's line."""
        return frozenset(name for name in self.names
                         if (bind := self._binding(name, (index, line))) is not None
                         and (name, bind[0]) in self.values)


def _names(node: ast.AST) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
    out: list[str] = []
    for target in targets:
        out += [t.id for t in (target.elts if isinstance(target, ast.Tuple) else [target])
                if isinstance(t, ast.Name)]
    return out


def _differentiated(call: ast.Call) -> list[str]:
    """y of y.backward(), y.sum().backward(), torch.autograd.grad(y, x): what autograd ran
    back from."""
    if isinstance(call.func, ast.Attribute) and call.func.attr == "backward":
        base = call.func.value
        while isinstance(base, (ast.Call, ast.Attribute, ast.Subscript)):
            base = base.func if isinstance(base, ast.Call) else base.value
        return [base.id] if isinstance(base, ast.Name) else []
    if dotted_name(call.func).endswith(("autograd.grad", "autograd.backward")) and call.args \
            and isinstance(call.args[0], ast.Name):
        return [call.args[0].id]
    return []


def claimed(trees: Iterable[ast.AST]) -> dict[str, str]:
    """d-name -> the name it is compared with, for each cmp(label, dname, name) call of a
    function the notebook defines that compares its second argument with its third's .grad,
    and each `dname == name.grad` or torch.allclose(dname, name.grad) of a name beginning
    with d (any other name compared so is paired(): an entry only where its own spelling
    says nothing, and `z = x * 18` of `assertEqual(z, x.grad)` is then x's entry)."""
    trees = list(trees)
    layers = linear_layers(trees)   # layer.weight.grad: the input layer_weight's (_layers)
    trees = [rewritten(t, layers) for t in trees]
    comparers = {f.name for tree in trees for f in ast.walk(tree)
                 if isinstance(f, ast.FunctionDef)
                 and compares([a.arg for a in f.args.args], f.body)}
    found: dict[str, set[str]] = {}
    for tree in trees:
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    and call.func.id in comparers and len(call.args) == 3
                    and isinstance(call.args[1], ast.Name)
                    and isinstance(call.args[2], ast.Name)):
                continue
            found.setdefault(call.args[1].id, set()).add(call.args[2].id)
        for node in ast.walk(tree):   # torch.allclose(dW, layer_weight.grad), dW == W.grad
            compared = grad_compared(node) or grad_tolerance(node) \
                if isinstance(node, ast.expr) else None
            if compared is not None and isinstance(compared[1], ast.Name) \
                    and compared[1].id.startswith("d"):   # a d-name (z = x * 18 is a total)
                found.setdefault(compared[1].id, set()).add(compared[0])
    return {hand: next(iter(of)) for hand, of in found.items() if len(of) == 1}


def paired(trees: Iterable[ast.AST]) -> dict[str, str]:
    """name -> the leaf whose .grad one line pairs it with (pairs_in()), when only one: a
    name's own spelling (dy_dx, dW) says more, and cmp() more still (see derivative())."""
    trees = list(trees)
    layers = linear_layers(trees)   # layer.weight.grad: the input layer_weight's (_layers)
    pairing = Pairing(rewritten(t, layers) for t in trees)
    found: dict[str, set[str]] = {}
    for pair in (p for index in range(len(trees)) for p in pairing.pairs(index)):
        if pair.same_way and pair.name != pair.leaf:
            found.setdefault(pair.name, set()).add(pair.leaf)
    return {hand: next(iter(of)) for hand, of in found.items() if len(of) == 1 and all(of)}


class Pairing:
    """What the pairing rule reads across a notebook's trees before it pairs a line: the
    names holding a .grad (holders), those a backward() ran through (Forward), a tolerance's
    size held in a name (measured); pairs() then gives one tree's pairs by it, to the draft
    (paired()) and the count alike."""

    def __init__(self, trees: Iterable[ast.AST]):
        self.trees = list(trees)
        self.holding = holders(self.trees)
        self.forward = Forward(self.trees)
        self.measures = measured(self.trees)   # diff = (auto - manual).abs().max()

    def pairs(self, index: int) -> Iterator[Pair]:
        """pairs_in() of tree index."""
        return pairs_in(self.trees[index], self.holding, self.forward.of(index), self.measures)


def holders(trees: Iterable[ast.AST]) -> dict[str, str]:
    """auto = x.grad: the names that hold a leaf's .grad, and whose."""
    out: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                leaf, flips = grad_read(node.value)
                if leaf and not flips:
                    out[node.targets[0].id] = leaf
    return out


def pairs_in(tree: ast.AST, holding: dict[str, str],
             values: Callable[[int], frozenset[str]] = lambda line: frozenset(),
             measures: dict[str, list[ast.expr]] | None = None) -> Iterator[Pair]:
    """Every pair of a tree: in each statement (an if's test too), and on a print just below
    a print of a .grad alone (or one assignment below it, of the name printed); values says
    which names a line shows hold a value backward() ran through (Forward), never paired."""
    def side(node: ast.expr) -> tuple[str, int] | None:
        leaf, flips = grad_read(node)
        inner, held_flips = read_back(node)
        if not leaf and isinstance(inner, ast.Name) and inner.id in holding:
            return holding[inner.id], held_flips
        return (leaf, flips) if leaf else None

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for i, statement in enumerate(body):
            before = body[i - 1] if i else None
            if isinstance(statement, (ast.Expr, ast.Assert, ast.If)):
                value = statement.value if isinstance(statement, ast.Expr) else statement.test
                yield from pairs(value, side, printed=True, values=values(statement.lineno),
                                 measures=measures)
                yield from _below(before, statement, body[i + 1:i + 3], side, values)


def _below(before: ast.stmt | None, statement: ast.stmt, after: list[ast.stmt],
           side, values: Callable[[int], frozenset[str]]) -> Iterator[Pair]:
    """print(w.grad); print(analytical): the one name shown on the print line just below a
    .grad shown alone, unless a name is shown alone just above it too (print(a); print(x.grad);
    print(b) does not say which of a and b is x's); or print(w.grad); fw = ...; print(fw): the
    name computed just below it, then shown."""
    shown = printed(statement)
    grad = side(shown[0]) if shown and len(shown) == 1 else None
    if grad is None or not after:
        return
    kept = after[0]
    if isinstance(kept, ast.Assign) and len(kept.targets) == 1 \
            and isinstance(kept.targets[0], ast.Name) and len(after) > 1 \
            and not any(grad_read(n)[0] for n in ast.walk(kept.value)
                        if isinstance(n, ast.expr)):
        below = printed(after[1])
        if below and len(below) == 1 and _name_of(below[0], side) == kept.targets[0].id \
                and kept.targets[0].id not in values(after[1].lineno):
            yield Pair(kept.targets[0].id, grad[0], "printed", grad[1] % 2 == _flips(below[0]),
                       after[1].lineno)
        return
    above = printed(before) if before is not None else None
    if above and len(above) == 1 and _name_of(above[0], side):
        return
    below = printed(kept)
    if below and len(below) == 1 and _name_of(below[0], side) \
            and _name_of(below[0], side) not in values(kept.lineno):
        yield Pair(_name_of(below[0], side), grad[0], "printed",
                   grad[1] % 2 == _flips(below[0]), kept.lineno)


def _name_of(node: ast.expr, side) -> str:
    """h of a shown h, h.item(), h.T: a name, not a .grad ("" otherwise)."""
    inner = read_back(node)[0]
    return inner.id if isinstance(inner, ast.Name) and side(node) is None else ""


def _flips(node: ast.expr) -> int:
    return read_back(node)[1] % 2


def pairs(node: ast.expr, side: Callable[[ast.expr], tuple[str, int] | None],
          printed: bool = False, values: frozenset[str] = frozenset(),
          measures: dict[str, list[ast.expr]] | None = None) -> Iterator[Pair]:
    """The names compared in node with a .grad (side says whose .grad a side reads, and how
    many times transposed, or None), and with printed, those printed beside one. A
    comparison of two sides pairs its name; a print pairs only one name beside one .grad;
    a name beside its own .grad is never paired, nor one of values (Forward.at()) printed."""
    groups = [(sides, "compared") for sides in comparisons(node, measures)]
    if printed and isinstance(node, ast.Call):
        shown = printed_args(node)
        if shown is not None:
            groups.append((shown, "printed"))
    for sides, how in groups:
        grads = [g for g in map(side, sides) if g is not None]
        if not grads:
            continue
        # print(f"a: {a} a.grad: {a.grad}"): a name beside its own .grad is its value shown,
        # never a derivative of it by hand (and leaves the line's other name the one paired);
        # so is a node of the graph printed, but `x.grad == u` compares: u is claimed
        refused = {leaf for leaf, _ in grads if leaf} | (values if how == "printed" else set())
        hands = [read_back(s) for s in sides if side(s) is None]
        hands = [(inner, flips) for inner, flips in hands
                 if not (isinstance(inner, ast.Name) and inner.id in refused)]
        names = [(inner.id, flips) for inner, flips in hands if isinstance(inner, ast.Name)]
        one = len(grads) == 1 and len(hands) == len(names) == 1
        for name, flips in names:
            yield Pair(name, grads[0][0] if one else "", how,
                       one and grads[0][1] % 2 == flips % 2)


def comparisons(node: ast.expr, measures: dict[str, list[ast.expr]] | None = None
                ) -> list[list[ast.expr]]:
    """The sides of each comparison in node: a == b, allclose(a, b), a.eq(b), assertEqual, and
    a tolerance written out (tolerance(): `(a - b).abs().max() < tol`, a and b)."""
    out: list[list[ast.expr]] = []
    for n in ast.walk(node):
        if isinstance(n, ast.Compare) and len(n.comparators) == 1:
            out.append(tolerance(n, measures) or [n.left, n.comparators[0]])
        elif isinstance(n, ast.Call) and comparing(n.func):
            out.append(list(n.args) + ([n.func.value] if isinstance(n.func, ast.Attribute)
                                       and dotted_name(n.func.value) not in MODULES else []))
    return out


def tolerance(node: ast.Compare, measures: dict[str, list[ast.expr]] | None = None
              ) -> list[ast.expr] | None:
    """[a, b] of `(a - b).abs().max() < tol`, `torch.sum(torch.abs(a - b)) <= tol`, `(a -
    b).norm() < tol`, `abs(a - b) < tol`: the two sides a difference sized under a tolerance
    compares (torch.from_numpy(a) is a's numbers); with measures (measured()), of `diff <
    tol` where diff holds such a size; None of any other comparison."""
    if not (len(node.ops) == 1 and isinstance(node.ops[0], (ast.Lt, ast.LtE))):
        return None
    if isinstance(node.left, ast.Name) and node.left.id in (measures or {}):
        return (measures or {})[node.left.id]
    return size_of(node.left)


def measured(trees: Iterable[ast.AST]) -> dict[str, list[ast.expr]]:
    """diff of `diff = (auto - manual).abs().max().item()` (then `assert diff < 1e-6`): the
    names given once, the size of a difference, and its two sides (size_of())."""
    given: dict[str, list[ast.expr | None]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            for target in _names(node):
                value = getattr(node, "value", None)
                given.setdefault(target, []).append(
                    value if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
    out: dict[str, list[ast.expr]] = {}
    for name, values in given.items():
        sides = size_of(values[0]) if len(values) == 1 and values[0] is not None else None
        if sides:
            out[name] = sides
    return out


def size_of(value: ast.expr) -> list[ast.expr] | None:
    """[a, b] of (a - b).abs().max(), torch.sum(torch.abs(a - b)), (a - b).norm().item()."""
    sized = False
    while isinstance(value, ast.Call) and not value.keywords:
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr in MEASURES and not value.args \
                and dotted_name(func.value) not in MODULES:   # (a - b).abs()
            sized, value = sized or func.attr in SIZES, func.value
        elif dotted_name(func) in MEASURED and len(value.args) == 1:   # torch.abs(a - b)
            sized, value = sized or dotted_name(func).rsplit(".", 1)[-1] in SIZES, value.args[0]
        else:
            break
    if not (sized and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub)):
        return None
    return [_as_tensor(value.left), _as_tensor(value.right)]


def grad_tolerance(node: ast.expr) -> tuple[str, ast.expr] | None:
    """(x, the other side) of `(hand - x.grad).abs().max() < tol` (either way round), as
    grad_compared() reads torch.allclose(hand, x.grad); else None."""
    sides = tolerance(node) if isinstance(node, ast.Compare) else None
    for grad, hand in (sides, sides[::-1]) if sides else ():
        if isinstance(grad, ast.Attribute) and grad.attr == "grad" \
                and isinstance(grad.value, ast.Name):
            return grad.value.id, hand
    return None


def _as_tensor(node: ast.expr) -> ast.expr:
    """a of torch.from_numpy(a): the same numbers made a tensor to compare them."""
    if isinstance(node, ast.Call) and dotted_name(node.func) in AS_TENSOR \
            and len(node.args) == 1 and not node.keywords:
        return node.args[0]
    return node


def comparing(func: ast.expr) -> bool:
    """allclose, x.eq, assertEqual: a call that compares its sides."""
    last = func.attr if isinstance(func, ast.Attribute) else \
        func.id if isinstance(func, ast.Name) else ""
    return last in COMPARERS or bool(ASSERTS.search(last))


def read_back(value: ast.expr) -> tuple[ast.expr, int]:
    """What is read back, and how many times transposed: x.grad of x.grad.item(), x.grad.data,
    W.grad.T (once); dz_dx of dz_dx.item()."""
    flips = 0
    while True:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr in READ_BACK and not value.args and not value.keywords:
            flips += value.func.attr in FLIPS
            value = value.func.value
        elif isinstance(value, ast.Attribute) and value.attr in ("data", "T"):
            flips += value.attr in FLIPS
            value = value.value
        else:
            return value, flips


def grad_read(value: ast.expr) -> tuple[str, int]:
    """(x, transposes) of x.grad read back (x.grad.item(), W.grad.T); ("", 0) otherwise."""
    inner, flips = read_back(value)
    if isinstance(inner, ast.Attribute) and inner.attr == "grad" \
            and isinstance(inner.value, ast.Name):
        return inner.value.id, flips
    return "", 0


def printed(statement: ast.stmt) -> list[ast.expr] | None:
    """What a print statement shows (its strings left out), None for any other statement."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return None
    return printed_args(statement.value)


def printed_args(call: ast.Call) -> list[ast.expr] | None:
    """print(...)'s values, an f-string's among them, its strings left out."""
    if not (isinstance(call.func, ast.Name) and call.func.id == "print"):
        return None
    out: list[ast.expr] = []
    for arg in call.args:
        if isinstance(arg, ast.JoinedStr):
            out += [v.value for v in arg.values if isinstance(v, ast.FormattedValue)]
        elif not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            out.append(arg)
    return out
