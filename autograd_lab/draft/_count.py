"""Every derivative a tutorial computes by hand, found statically, and whether a case checked it.

The finder reads the cells' `ast` (nothing runs) and knows the forms tutorials write:

- an assignment to a derivative's name: `dz_dx = ...`, `dL_dw = ...`, `dLdW = ...`, `dydx =
  ...`, `do1db = ...`, a name with the word grad, gradient or derivative in it (`grad_w`,
  `w_grad`, `grad`, `manual_gradient_predicted`, `analyticGrad`), `d<name> = ...` for a name
  the tutorial assigns or a function's parameter (`dlogits`, `dW1`, `dW` of `def loss(W,
  X)`), a constant one (`du_db = 1`), and the statements that change one afterwards
  (`dlogits[range(n), Yb] -= 1`);
- a chain of derivatives put together by hand, the running total of edges: `total = dz_dy *
  dy_dx`, `print(dL_do1 * do1_dw + dL_do2 * do2_dw)`;
- a function returning one: `def dz_dx(x)`, `def analytical_gradient(x)`, `def f_prime(x)`
  (or, when its body assigns derivatives, each of those);
- a formula compared with a gradient autograd computed, or printed beside it or on the print
  lines just below: `9*a**2 == a.grad`, `torch.allclose(2*x, x.grad)`, `print(x.grad, 2*x)`,
  a notebook cell showing `2/N * (out-Y) @ W.t()` after one showing `X.grad`, or kept in a
  name that is compared or printed beside one (`z = x * 18; assertEqual(z, x.grad)`,
  `analytical = 3*x**2; print(analytical, x.grad)`, `t.eq(auto)` where `auto = x.grad`,
  `print(x.grad); fb = fo1 * fo1b; print(fb)`); autograd's value may be read back on its way
  (`x.grad.item()`, `W.grad.T`);
- `x.grad = <formula>`, and fast.ai's `x.g = <formula>`;
- a backward rule in a class: micrograd's `def _backward(): self.grad += ...`, the `return`
  of a `torch.autograd.Function`'s `backward`.

Autograd's value read back (`g = x.grad`, `x.grad.item()`, `torch.autograd.grad(...)`,
`grads = [p.grad for p in ps]`), a derivative read back (`manual_grad = dz_dx.item()`: the
one of dz_dx), helpers only named like a derivative (`get_grad`, `mkgrad`, `draw_dot`, a
`pytorch_gradient()` that calls backward() and returns what autograd computed) and finite-difference
estimates (`(f(x + h) - f(x)) / h`, `grad_fd`, `numerical_grad`: a number measured, not a
derivative written by hand) are not counted.

One found is checked when a drafted case that was compared (passed or failed, not in error
nor unchecked) holds an entry drafted from its line, or, for a function, from a line that
calls it; every other one is listed with the reason."""
from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..case import dotted_name
from ..reading import primed, runs_autograd
from ._claims import (
    Pairing,
    claimed,
    comparing,
    comparisons,
    grad_read,
    pairs,
    printed_args,
    read_back,
    tolerance,
)
from ._notebook import Note, Notebook
from ._text import one_line

PAIR = re.compile(r"^d\w*_d\w+$")                      # dz_dx, dL_dw, dloss_dy_pred
RATIO = re.compile(r"^d([A-Z]\w*|[a-z]\d*)d([A-Z]\w*|[a-z]\d*)$")   # dLdW, dydx, do1db
OF = re.compile(r"^(?:grad_(\w+)|(\w+)_grad)$")
# the words of a name that say it is a derivative (manual_grad, analyticGrad, f_prime), and
# the words that say it is autograd's or about gradients, not one (autograd_grad, grad_fn)
GRADIENT_WORDS = frozenset({"grad", "grads", "gradient", "gradients", "deriv", "derivs",
                            "derivative", "derivatives", "prime"})
NOT_GRADIENT_WORDS = frozenset({"auto", "autograd", "torch", "pytorch", "tf", "jax", "fn",
                                "fns", "norm", "norms", "mode", "enabled", "accum", "steps",
                                "step", "scale", "scaler", "hook", "hooks", "zero", "zeros",
                                "none", "flag", "requires", "req", "output", "outputs"})
WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
FUNCTION = re.compile(r"grad|deriv|prime|^d\w*_d\w+$")
NOT_BY_HAND = re.compile(r"requires_grad|zero_grad|no_grad|enable_grad|set_grad|numer|finite|"
                         r"approx|check|clip|^external_grad$|^upstream|(^|_)fd(_|$)")
# a helper that draws or shows a graph, named like a derivative (draw_dot matches d.._d..)
DRAWING = re.compile(r"^(draw|plot|show|render|display|visuali[sz]e|trace|view)(_|$)|"
                     r"_(dot|graph|plot|svg|png)$")
# the step of a finite difference: (f(x + h) - f(x)) / h
STEP = re.compile(r"^(h|eps\w*|epsilon|delta\w*|step\w*)$")
SECTIONS_NOT_CHECKING = ("name", "title", "source", "dtype", "inputs", "forward", "output",
                         "upstream", "dims", "steps", "tolerance", "order")
PLACE = re.compile(r"((?:In \[[^\]]*\]|cell \d+), line (\d+))")
VALUES = ("only the values it printed are checked, against its own formula (its "
          "arithmetic): the tutorial builds no graph that autograd differentiates for it")
RESETS = ("zeros", "zeros_like", "empty_like", "ones_like", "full_like")   # a .grad reset or a
# buffer made to fill: no derivative yet
CLASS_RULE = ("a backward rule in a class: the draft writes no case for it (`autograd-lab "
              "check` reads micrograd's rules and an autograd.Function's backward from the "
              "source, as the API's cases_from_source does)")


@dataclass(frozen=True)
class Found:
    """One statement computing a derivative by hand: where, its text, and what it is."""

    cell: str
    line: int
    text: str
    kind: str                    # "variable", "function", "compared", "grad", "class"
    function: str = ""           # a function's name: its calls check it
    reason: str = ""             # known when found (a class's rule)
    inside: str = ""             # the function whose body holds it, if any


def find(notebook: Notebook) -> list[Found]:
    """Every hand-written derivative of the notebook's cells, in order."""
    trees = []
    for cell in notebook.cells:
        try:
            trees.append((cell, ast.parse(cell.code)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    assigned = {t.id for _, tree in trees for node in ast.walk(tree)
                for t in _targets(node) if isinstance(t, ast.Name)}
    # a function's parameters are names too: dW of softmax_loss(W, X, y) is W's derivative
    assigned |= {a.arg for _, tree in trees for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs}
    defined = {node.name for _, tree in trees for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef)}
    functions = {node.name for _, tree in trees for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef) and _derivative_function(node, defined)}
    # names that hold autograd's value (auto = x.grad): compared with a formula like x.grad
    autograd = {t.id for _, tree in trees for node in ast.walk(tree)
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None
                and _read_back(node.value) for t in _targets(node) if isinstance(t, ast.Name)}
    # a fork's own d-names, claimed by its cmp() calls: dprobs_log is logprobs' gradient
    claims = set(claimed(tree for _, tree in trees))
    # the draft's pairing rule over these trees (_claims): y of y.backward(); print(y,
    # x.grad) is a node of the graph shown, no derivative; diff = (a - x.grad).abs().max()
    pairing = Pairing(tree for _, tree in trees)
    found: list[Found] = []
    shown = False   # the cell before ended showing a .grad: a notebook shows it, then a formula
    for index, (cell, tree) in enumerate(trees):
        finder = _Finder(cell.label, cell.code.split("\n"), assigned, functions, autograd)
        finder.values = pairing.forward.of(index)
        finder.measures = pairing.measures
        finder.defined = defined
        # print(x.grad); print(manual): the name shown just below a .grad, as the draft pairs
        # it (_claims._below), its formula assigned above
        finder.below = {(p.below, p.name) for p in pairing.pairs(index)
                        if p.below and p.leaf and p.same_way}
        finder.grad_printed = shown
        finder.claimed = claims
        finder.body(tree.body)
        shown = finder.grad_printed
        found += finder.found
    return found


def covered(written: str, steps: bool = False) -> set[tuple[str, int]]:
    """(cell, line) of each entry of a draft that is compared (its hand-written derivatives,
    claims and points), read back from the entries' comments; with steps, a values case's
    steps too (a derivative's printed values, checked against its formula)."""
    places: set[tuple[str, int]] = set()
    section = ""
    for line in written.split("\n"):
        top = re.match(r"^([A-Za-z_]\w*):", line)
        if top:
            section = top[1]
        if (section in SECTIONS_NOT_CHECKING and not (steps and section == "steps")) \
                or line.lstrip().startswith("#"):
            continue
        _, hash_, comment = line.partition("  # ")
        if hash_:
            places |= {(m[1].rsplit(", line", 1)[0], int(m[2])) for m in PLACE.finditer(comment)}
    return places


def tally(found: list[Found], compared: set[tuple[str, int]], failed_cases: dict,
          notes: list[Note], calls: dict[str, set[tuple[str, int]]],
          valued: frozenset = frozenset()) -> dict:
    """report.json's `derivatives` for one source: found, checked, and each unchecked one.
    compared: the places of compared cases' entries; failed_cases: place -> why the case
    drafted from it could not be checked; calls: a function's name -> where it is called;
    valued: the places of values cases' entries (a printed value checked, not a gradient)."""
    by_place = {(n.cell, n.line): n.text for n in notes if n.line}
    unchecked = []
    for f in found:
        places = {(f.cell, f.line)} | calls.get(f.function, set())
        if f.reason == "" and places & compared:
            continue
        reason = f.reason or next((failed_cases[p] for p in sorted(places) if p in failed_cases),
                                  None) or (VALUES if places & valued else None) \
            or _said(by_place.get((f.cell, f.line)), f) or _called(f, places, by_place) \
            or _why(f, calls.get(f.inside, set()), by_place)
        unchecked.append({"line": f.line, "cell": f.cell, "text": f.text,
                          "reason": one_line(reason, 300)})
    return {"found": len(found), "checked": len(found) - len(unchecked), "unchecked": unchecked}


def calls_of(notebook: Notebook, names: set[str]) -> dict[str, set[tuple[str, int]]]:
    """Where each named function is called: a call site a case entry came from checks it."""
    out: dict[str, set[tuple[str, int]]] = {name: set() for name in names}
    for cell in notebook.cells:
        try:
            tree = ast.parse(cell.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in out:
                out[node.func.id].add((cell.label, node.lineno))
    return out


def _said(note: str | None, f: Found) -> str | None:
    """A note's reason without the statement it opens with (the entry shows it beside)."""
    if note is None:
        return None
    for verdict in ("left out: ", "not checked: "):
        if note.startswith(verdict + f.text + ": "):
            return verdict + note[len(verdict + f.text + ": "):]
    return note


def _called(f: Found, places: set, by_place: dict) -> str | None:
    """Why a function's calls made no case: the note at the first call the draft left out."""
    if f.kind != "function":
        return None
    return next((f"its call on line {line}: {by_place[(cell, line)]}"
                 for cell, line in sorted(places, key=lambda p: p[1])
                 if (cell, line) in by_place and line != f.line), None)


def _why(f: Found, called: set[tuple[str, int]], by_place: dict) -> str:
    """Why no case uses f; called: where the function f is written inside is called."""
    if f.function and f.kind != "function":   # dx = ... inside def grads(x): ... return
        return (f"no case uses it: it is written inside {f.function}(), whose body the draft "
                "does not follow as a derivative (only a function returning one formula)")
    if f.inside and f.kind in ("variable", "total", "printed", "compared"):
        if not called:
            return (f"no case uses it: it is written inside {f.inside}(), which the tutorial "
                    "never calls (the draft follows a function's body where it is called)")
        if not called & set(by_place):
            sites = "; ".join(f"{cell}, line {line}" if cell else f"line {line}"
                              for cell, line in sorted(called, key=lambda p: p[1]))
            return (f"no case uses it: it is written inside {f.inside}(), whose body the draft "
                    f"follows where it is called ({sites}), and no case was made there: see "
                    "the lines the draft left out")
        return (f"no case uses it: it is written inside {f.inside}(), and no case was made "
                "from that function's body (the draft follows a function where it is called "
                "when it returns nothing and is given names, or is assignments and one return: "
                "see the note at its call)")
    return {
        "function": "no case uses it: it is neither compared with a .grad autograd computed "
                    "nor printed with its value where the draft follows the graph",
        "compared": "no case uses it: the draft does not follow the .grad it is compared with",
        "printed": "no case uses it: it is printed beside autograd's .grad, not compared with "
                   "it (==, torch.allclose or assert make a comparison the draft checks)",
        "attribute": "no case uses it: a gradient kept in an attribute of its own (x.g), which "
                     "the draft does not follow",
        "total": "no case uses it: derivatives written by hand put together (a product or sum "
                 "of them), shown but neither kept in a derivative's name nor compared with a "
                 ".grad the draft follows",
    }.get(f.kind, "no case uses it: the draft matched it to no graph it follows")


class _Finder:
    def __init__(self, cell: str, lines: list[str], assigned: set[str], functions: set[str],
                 autograd: set[str]):
        self.cell, self.lines = cell, lines
        self.assigned, self.functions, self.autograd = assigned, functions, autograd
        self.found: list[Found] = []
        self.in_class = False
        self.function = ""          # the derivative function whose body is read
        self.inside = ""            # the function whose body is read, whatever its name
        self.grad_printed = False   # the statement before printed a .grad
        self.formulas: dict[str, ast.stmt] = {}   # name -> the formula last assigned to it
        # name -> a formula of numbers alone last assigned to it (cos(1.0 ** 2) * 2 * 1.0):
        # a derivative where a line pairs it with a .grad (below), else a constant
        self.numbers: dict[str, ast.stmt] = {}
        self.kept: tuple[str, ast.stmt] | None = None   # a formula kept just after a .grad shown
        self.chains: set[str] = set()   # the products and sums of a derivative's formula
        self.claimed: set[str] = set()   # names a cmp() compares with a .grad (_claims)
        # the names a line shows that hold a value backward() ran through (Forward.at())
        self.values: Callable[[int], frozenset[str]] = lambda line: frozenset()
        # diff of `diff = (a - x.grad).abs().max()`: a's comparison when `diff < tol` (_claims)
        self.measures: dict[str, list[ast.expr]] = {}
        self.defined: set[str] = set()   # the notebook's functions: fp is f's derivative
        self.below: set[tuple[int, str]] = set()   # (line, name) printed below a .grad

    def add(self, node: ast.AST, kind: str, function: str = "", reason: str = "") -> None:
        line = getattr(node, "lineno", 0)
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        if any(f.line == line for f in self.found):   # one a statement
            return
        self.found.append(Found(self.cell, line, one_line(text, 200), kind,
                                function or self.function, reason, self.inside))

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            kept, self.kept = self.kept, None
            self.statement(statement)
            shown = _printed(statement)
            if kept and shown is not None and kept[0] in map(_name, map(_unread, shown)) \
                    and kept[0] not in self.values(statement.lineno):
                # print(w.grad); fw = (2*o - 2*y) * x; print(fw): the formula shown below it
                # (not d2l's print(x.grad); y = 2 * torch.dot(x, x); print(y); y.backward():
                # the function's value, shown before any backward() ran, as _claims._below)
                self.add(kept[1], "class" if self.in_class else "printed",
                         reason=CLASS_RULE if self.in_class else "")
            if self.grad_printed and kept is None and isinstance(statement, ast.Assign) \
                    and _kept(statement):   # one assignment between the two prints, no more
                self.kept = (_name(statement.targets[0]), statement)
                continue    # the .grad shown still stands for the print just below
            grad = any(map(_is_grad, ast.walk(statement)))
            # a label printed between keeps the .grad shown (print("dL/dw")); a cell showing
            # something else (X.shape) ends it
            other = isinstance(statement, ast.Expr) and _displayed(statement.value) \
                and not grad and not any(self.formula(a) for a in shown or [])
            self.grad_printed = shown is not None and not other and (self.grad_printed or grad)

    def statement(self, s: ast.stmt) -> None:
        if isinstance(s, ast.ClassDef):
            function = any(dotted_name(b).endswith("Function") for b in s.bases)
            was, self.in_class = self.in_class, True
            for inner in s.body:
                if function and isinstance(inner, ast.FunctionDef) and inner.name == "backward":
                    for r in (n for n in ast.walk(inner) if isinstance(n, ast.Return)):
                        self.add(r, "class", reason=CLASS_RULE)
                else:
                    self.statement(inner)
            self.in_class = was
            return
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside, self.inside = self.inside, self.inside or s.name
            self.function_body(s)
            self.inside = inside
            return
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            self.assignment(s)
            self.remember(s)
        elif isinstance(s, (ast.Expr, ast.Assert, ast.If)):   # an if's test compares too
            value = s.value if isinstance(s, ast.Expr) else s.test
            kept = self.compared_name(value, printed=_printed(s) is not None)
            if kept is not None:
                self.add(kept[0], kept[1], reason=CLASS_RULE if self.in_class else "")
            for line, name in sorted(self.below):
                kept_above = self.formulas.get(name) or self.numbers.get(name)
                if line == s.lineno and kept_above is not None:
                    self.add(kept_above, "printed", reason=CLASS_RULE if self.in_class else "")
            shown = _printed(s) or []
            if self.compared(value) or (self.grad_printed and self.printed_formula(s)):
                self.add(s, "printed" if shown and not any(
                    isinstance(n, ast.Compare) or ((isinstance(n, ast.Call) and n is not value)
                    and comparing(n.func)) for n in ast.walk(value))
                    else "compared", reason=CLASS_RULE if self.in_class else "")
            elif any(self.chain(a) for a in [*shown, *self.compared_sides(value)]):
                self.add(s, "class" if self.in_class else "total",
                         reason=CLASS_RULE if self.in_class else "")
                self.chains |= {ast.dump(n) for a in [*shown, *self.compared_sides(value)]
                                for n in ast.walk(_unread_all(a)) if isinstance(n, ast.BinOp)}
        for field in ("body", "orelse", "finalbody"):   # a loop's, an if's, a with's, a try's
            block = getattr(s, field, None)
            if isinstance(block, list):
                self.body(block)
        for handler in getattr(s, "handlers", None) or []:
            self.body(handler.body)

    def function_body(self, s) -> None:
        if not self.in_class and _derivative_function(s, self.defined):
            # each derivative its body writes counts (dx, dw, db = ...; inp.g = ...), the
            # function itself when it only returns one; one returning nothing is followed
            # where it is called, as any such function is (its body's lines are its entries')
            returned = [n for n in ast.walk(s) if isinstance(n, ast.Return) and n.value]
            before, outer = len(self.found), self.function
            self.function = s.name if returned else outer
            self.body(s.body)
            self.function = outer
            if returned and len(self.found) == before:
                self.add(s, "function", function=s.name)
            return
        self.body(s.body)

    def assignment(self, s) -> None:
        value = s.value
        if value is None or _read_back(value) or _finite_difference(value) \
                or _autograds(value) or self.alias(s):
            return   # torch_gradient = x.grad: autograd's; (f(a + h) - f(a)) / h: measured
        if not _computes(value):   # du_db = 1: a constant derivative, by its name alone
            if _number(value) and any(isinstance(t, ast.Name) and (PAIR.match(t.id) or
                                      RATIO.match(t.id)) for t in _targets(s)):
                self.add(s, "class" if self.in_class else "variable",
                         reason=CLASS_RULE if self.in_class else "")
            return
        for target in _targets(s):
            if isinstance(target, ast.Attribute) and target.attr in ("grad", "g"):   # fast.ai's
                self.add(s, "class" if self.in_class else "grad" if target.attr == "grad"
                         else "attribute",
                         reason=CLASS_RULE if self.in_class else "")
                return
            base = target
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name) and (self.derivative_name(base.id)
                                               or self.chain(value)):
                self.add(s, "class" if self.in_class else "variable",
                         reason=CLASS_RULE if self.in_class else "")
                self.chains |= {ast.dump(n) for n in ast.walk(_unread_all(value))
                                if isinstance(n, ast.BinOp)}
                return

    def alias(self, s) -> bool:
        """manual_grad = dz_dx.item(), grads = [dW, db]: derivatives read back or gathered
        under a name that does not say which, not new ones (dnorm_logits = dlogits.clone()
        is: the identity edge, written by hand); the formula a plain name kept is counted at
        its own line (t = 2*x; manual_grad = t.item())."""
        vague = all(isinstance(t, ast.Name) and not self.specific(t.id) for t in _targets(s))
        plain = not any(isinstance(n, (ast.BinOp, ast.UnaryOp, ast.Call))
                        for n in ast.walk(_unread(s.value)))
        if vague and plain and any(isinstance(n, ast.Name) and self.derivative_name(n.id)
                                   for n in ast.walk(s.value)):
            return True
        source = _unread(s.value)
        if s.value is source or not isinstance(source, ast.Name) \
                or source.id not in self.formulas:
            return False
        if any(isinstance(t, ast.Name) and self.derivative_name(t.id) for t in _targets(s)):
            self.add(self.formulas[source.id], "variable")
        return True

    def remember(self, s) -> None:
        for target in _targets(s):
            if isinstance(target, ast.Name):
                self.formulas.pop(target.id, None)
                self.numbers.pop(target.id, None)
                if isinstance(s, ast.Assign) and s.value is not None and self.formula(s.value):
                    if _computes(s.value):
                        self.formulas[target.id] = s
                    else:
                        self.numbers[target.id] = s

    def derivative_name(self, name: str) -> bool:
        """dz_dx, dLdW, dlogits, and the names that do not say of what: manual_grad."""
        if NOT_BY_HAND.search(name):
            return False
        words = {w.lower() for w in WORDS.findall(name)}
        return self.specific(name) or bool(words & GRADIENT_WORDS
                                           and not words & NOT_GRADIENT_WORDS)

    def specific(self, name: str) -> bool:
        """A derivative's name that says of what by what: dz_dx, dLdW, do1db, dlogits."""
        if NOT_BY_HAND.search(name):
            return False
        if PAIR.match(name) or RATIO.match(name) or name in self.claimed:
            return True
        of = OF.match(name)   # grad_w, w_grad: of a name the tutorial assigns
        if of and (of[1] or of[2]) in self.assigned:
            return True
        rest = name[1:].lstrip("_")
        return name.startswith("d") and bool(rest) and rest in self.assigned

    def autograd_side(self, node: ast.expr) -> bool:
        """x.grad, x.grad.item(), W.grad.T, or a name holding one (auto = x.grad)."""
        return _read_back(node) or _name(_unread(node)) in self.autograd

    def compared_sides(self, node: ast.expr) -> list[ast.expr]:
        """The sides of each comparison in node: a == b, allclose(a, b), a.eq(b)."""
        return [side for sides in comparisons(node) for side in sides]

    def compared(self, node: ast.expr) -> bool:
        """A formula compared with a .grad, or printed beside one (not a derivative already
        found under its own name: that one's line is its assignment's)."""
        for n in ast.walk(node):
            sides = None
            if isinstance(n, ast.Compare) and len(n.comparators) == 1:
                sides = tolerance(n) or [n.left, n.comparators[0]]
            elif isinstance(n, ast.Call) and comparing(n.func):
                sides = self.compared_sides(n)
            elif isinstance(n, ast.Call) and dotted_name(n.func) == "print":
                sides = _printed(n)
            if sides and any(self.autograd_side(x) for x in sides):
                hands = [x for x in sides if not self.autograd_side(x)]
                if any(self.formula(h) for h in hands):
                    return True
        return False

    def compared_name(self, node: ast.expr, printed: bool = False) -> tuple | None:
        """`z = x * 18` of `assertEqual(z, x.grad)`: a formula kept in a name a line above
        and compared with a .grad, or printed beside one (`print(analytical, x.grad)`): its
        assignment and which (the pairs the draft makes entries of, _claims)."""
        for pair in pairs(node, self.grad_side, printed, self.values(node.lineno),
                          self.measures):
            if pair.name in self.formulas:
                return self.formulas[pair.name], pair.how
        return None

    def grad_side(self, node: ast.expr) -> tuple[str, int] | None:
        """Whose .grad a side reads (x of x.grad.item(), "" of a name holding one): a name
        shown beside its own .grad is its value (pairs())."""
        return (grad_read(node)[0], 0) if self.autograd_side(node) else None

    def printed_formula(self, node: ast.stmt) -> bool:
        """print(2 * x * (w*x + b - y)) right after print(w.grad): the formula shown beside
        autograd's value, a line below."""
        args = _printed(node)
        return args is not None and any(self.formula(a) and _reads_name(a) for a in args)

    def chain(self, node: ast.expr) -> bool:
        """dz_dy * dy_dx, dL_do1 * do1_db + dL_do2 * do2_db: derivatives found by their names
        put together by hand (numbers may scale them), and not a part of one's formula."""
        node = _unread_all(node)
        if not isinstance(node, ast.BinOp) or ast.dump(node) in self.chains:
            return False
        names: set[str] = set()
        for n in ast.walk(node):
            if isinstance(n, ast.BinOp) and not isinstance(n.op, (ast.Mult, ast.Add, ast.Sub)):
                return False
            if isinstance(n, ast.Name):
                names.add(n.id)
            elif not isinstance(n, (ast.BinOp, ast.operator, ast.Load, ast.Constant,
                                    ast.UnaryOp, ast.unaryop)):
                return False
        return len(names) >= 2 and all(self.derivative_name(n) for n in names)

    def formula(self, node: ast.expr) -> bool:
        """An expression that computes (an operation or a call over a name), not a name of a
        derivative found elsewhere nor a call of a derivative function."""
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if any(self.derivative_name(n) or n in self.functions or n in self.autograd
               for n in names):
            return False
        # constants alone count: `32*1.0**3 + 9*1.0**2 == x.grad` is a derivative evaluated
        # by hand (at a point, maybe the wrong one)
        return isinstance(_operated(node), (ast.BinOp, ast.UnaryOp)) \
            and not _finite_difference(node)


def _last(func: ast.expr) -> str:
    """The name a call is made by, the last of its chain: allclose of torch.allclose, eq of
    torch.tensor(v).eq (a chain that starts with a call has no dotted name)."""
    return func.attr if isinstance(func, ast.Attribute) else \
        func.id if isinstance(func, ast.Name) else ""


def _derivative_function(node, defined: set[str]) -> bool:
    """def dz_dx(x), def f_prime(x), def fp(x) beside def f(x) (primed, the reading's rule)."""
    return bool(FUNCTION.search(node.name) or primed(node.name, defined)) \
        and not NOT_BY_HAND.search(node.name) and not DRAWING.search(node.name) \
        and not _helper(node)


def _finite_difference(value: ast.expr) -> bool:
    """(f(x + h) - f(x)) / h, (f(a + eps) - f(a - eps)) / (2 * eps), (L2 - L1) / h: a
    difference divided by a step, the step a name like h or one the difference's calls move
    their arguments by. A slope measured, not a derivative written by hand."""
    for node in ast.walk(value):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
                and isinstance(node.left, ast.BinOp) and isinstance(node.left.op, ast.Sub)):
            continue
        steps = {n.id for n in ast.walk(node.right) if isinstance(n, ast.Name)}
        moved = {o.id for call in ast.walk(node.left) if isinstance(call, ast.Call)
                 for arg in call.args for shift in ast.walk(arg)
                 if isinstance(shift, ast.BinOp) and isinstance(shift.op, (ast.Add, ast.Sub))
                 for o in (shift.left, shift.right) if isinstance(o, ast.Name)}
        if steps and all(STEP.match(n) or n in moved for n in steps):
            return True
    return False


def _helper(node) -> bool:
    """get_grad(x): return x.g.clone(), mkgrad(x): return x.clone().requires_grad_(True), a
    function returning a lambda or a function, one that runs backward() and returns what
    autograd computed: named like a derivative, computing none; and `def derivative(f, x):
    return (f(x + h) - f(x)) / h`, measuring one."""
    returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
    inner = {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.Lambda))
             and n is not node and hasattr(n, "name")}
    if returned and all(
            _read_back(v) or _finite_difference(v) or isinstance(v, ast.Lambda)
            or (isinstance(v, ast.Name) and v.id in inner)
            or (isinstance(v, ast.Call) and _last(v.func) == "requires_grad_")
            for v in returned):
        return True
    return runs_autograd(node)   # pytorch_gradient(): backward(), then autograd's values


def _read_back(value: ast.expr) -> bool:
    """x.grad, x.grad.item(), x.grad.clone(), x.grad.data (or fast.ai's x.g), what
    torch.autograd.grad returns: a gradient already computed, read back, not one computed
    here."""
    if isinstance(value, ast.Call) and dotted_name(value.func).endswith("autograd.grad"):
        return True   # grad_x, = torch.autograd.grad(y, x): autograd's
    value = _unread(value)
    while isinstance(value, ast.Subscript):   # x.grad[0, 0]
        value = _unread(value.value)
    return isinstance(value, ast.Attribute) and value.attr in ("grad", "g")


def _unread(value: ast.expr) -> ast.expr:
    """What is read back: x.grad of x.grad.item(), x.grad.data, W.grad.T; dz_dx of
    dz_dx.item()."""
    return read_back(value)[0]


def _unread_all(value: ast.expr) -> ast.expr:
    """value with every part read back: dL_do1 * do1_db of dL_do1 * do1_db.item()."""
    class Unread(ast.NodeTransformer):
        def visit(self, node):
            return self.generic_visit(_unread(node)) if isinstance(node, ast.expr) \
                else self.generic_visit(node)
    return Unread().visit(copy.deepcopy(value))


def _autograds(value: ast.expr) -> bool:
    """[p.grad for p in params], torch.stack(grads): autograd's values gathered, no
    arithmetic on them."""
    return any(map(_is_grad, ast.walk(value))) and not any(
        isinstance(n, (ast.BinOp, ast.UnaryOp)) for n in ast.walk(value))


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else ""


def _kept(s: ast.stmt) -> bool:
    """fw = (2*o - 2*y) * x: one name given a formula that reads no .grad."""
    return isinstance(s, ast.Assign) and len(s.targets) == 1 \
        and isinstance(s.targets[0], ast.Name) and isinstance(s.value, (ast.BinOp, ast.UnaryOp)) \
        and not any(map(_is_grad, ast.walk(s.value)))


def _operated(value: ast.expr) -> ast.expr:
    """The formula a chain of methods starts from: 2/N * (out-Y) of (2/N * (out-Y)).t().sum()."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        value = value.func.value
    return value


def _displayed(value: ast.expr) -> bool:
    """A notebook cell's bare expression is shown: x.grad, 2/N * (out-Y) @ W.t(),
    (2/N * (out-Y)).sum(), b.grad, b.g (never a call made for what it does, x.grad.zero_())."""
    if isinstance(value, ast.Tuple):
        return all(map(_displayed, value.elts))
    if isinstance(value, ast.Call):
        return isinstance(_operated(value), (ast.BinOp, ast.UnaryOp))
    return isinstance(value, (ast.BinOp, ast.UnaryOp, ast.Name, ast.Attribute, ast.Subscript))


def _printed(node) -> list[ast.expr] | None:
    """A print's arguments (its strings left out, an f-string's values among them), or what
    a bare expression shows; None for anything else."""
    if isinstance(node, ast.Expr):
        if _displayed(node.value):
            return list(node.value.elts) if isinstance(node.value, ast.Tuple) \
                else [node.value]
        node = node.value
    return printed_args(node) if isinstance(node, ast.Call) else None


def _reads_name(node: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def _number(node: ast.expr) -> bool:
    while isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        out: list[ast.expr] = []
        for t in node.targets:
            out += list(t.elts) if isinstance(t, ast.Tuple) else [t]
        return out
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    return []


def _computes(value: ast.expr) -> bool:
    """It reads a variable (not only literals and modules): `external_grad = torch.tensor([1.,
    1.])` and `x.grad = None` compute no derivative."""
    if isinstance(value, ast.Call) and _last(value.func) in RESETS:
        return False
    return any(isinstance(n, ast.Name) and n.id not in ("torch", "np", "numpy", "math", "F")
               for n in ast.walk(value))


def _is_grad(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "grad"
