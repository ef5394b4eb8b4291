"""Every derivative a tutorial computes by hand, found statically, and whether a case checked it.

The finder reads the cells' `ast` (nothing runs) and knows the forms tutorials write:

- an assignment to a derivative's name: `dz_dx = ...`, `dL_dw = ...`, `dLdW = ...`, `dydx =
  ...`, `grad_w = ...`, `w_grad = ...`, `d<name> = ...` for a name the tutorial assigns
  or a function's parameter (`dlogits`, `dW1`, `dW` of `def loss(W, X)`), a constant one
  (`du_db = 1`), and the statements that change one afterwards (`dlogits[range(n), Yb] -=
  1`);
- a function returning one: `def dz_dx(x)`, `def analytical_gradient(x)`, `def f_prime(x)`
  (or, when its body assigns derivatives, each of those);
- a formula compared with a gradient autograd computed, or printed beside it or on the print
  lines just below: `9*a**2 == a.grad`, `torch.allclose(2*x, x.grad)`, `print(x.grad, 2*x)`,
  or kept in a name a test's assert compares (`z = x * 18; assertEqual(z, x.grad)`);
- `x.grad = <formula>`, and fast.ai's `x.g = <formula>`;
- a backward rule in a class: micrograd's `def _backward(): self.grad += ...`, the `return`
  of a `torch.autograd.Function`'s `backward`.

Autograd's value read back (`g = x.grad`, `x.grad.item()`, `torch.autograd.grad(...)`),
helpers only named like a derivative (`get_grad`, `mkgrad`, `draw_dot`) and finite-difference
estimates (`(f(x + h) - f(x)) / h`, `grad_fd`, `numerical_grad`: a number measured, not a
derivative written by hand) are not counted.

One found is checked when a drafted case that was compared (passed or failed, not in error
nor unchecked) holds an entry drafted from its line, or, for a function, from a line that
calls it; every other one is listed with the reason."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ._claims import claimed
from ._notebook import Note, Notebook
from ._text import one_line

PAIR = re.compile(r"^d\w*_d\w+$")                      # dz_dx, dL_dw, dloss_dy_pred
RATIO = re.compile(r"^d([A-Z]\w*|[a-z])d([A-Z]\w*|[a-z]\d*)$")   # dLdW, dydx
NAMED = re.compile(r"^(grad_\w+|\w+_grad|\w+_gradient|gradient_\w+)$")
FUNCTION = re.compile(r"grad|deriv|prime|^d\w*_d\w+$")
NOT_BY_HAND = re.compile(r"requires_grad|zero_grad|no_grad|enable_grad|set_grad|numer|finite|"
                         r"approx|check|clip|^external_grad$|^upstream|(^|_)fd(_|$)")
# a helper that draws or shows a graph, named like a derivative (draw_dot matches d.._d..)
DRAWING = re.compile(r"^(draw|plot|show|render|display|visuali[sz]e|trace|view)(_|$)|"
                     r"_(dot|graph|plot|svg|png)$")
# the step of a finite difference: (f(x + h) - f(x)) / h
STEP = re.compile(r"^(h|eps\w*|epsilon|delta\w*|step\w*)$")
COMPARERS = ("allclose", "isclose", "equal", "assert_close")
# a test's own comparers: assertEqual, tensorAssertEqual, assert_allclose
ASSERTS = re.compile(r"assert|equal$|close$", re.IGNORECASE)
SECTIONS_NOT_CHECKING = ("name", "title", "source", "dtype", "inputs", "forward", "output",
                         "upstream", "dims", "steps", "tolerance", "order")
PLACE = re.compile(r"((?:In \[[^\]]*\]|cell \d+), line (\d+))")
VALUES = ("only the values it printed are checked, against its own formula (its "
          "arithmetic): the tutorial builds no graph that autograd differentiates for it")
READ_BACK = ("item", "clone", "detach", "cpu", "numpy", "tolist")   # x.grad.item(): the same
# value, read back
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
    functions = {node.name for _, tree in trees for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef) and _derivative_function(node)}
    # a fork's own d-names, claimed by its cmp() calls: dprobs_log is logprobs' gradient
    claims = set(claimed(tree for _, tree in trees))
    found: list[Found] = []
    for cell, tree in trees:
        finder = _Finder(cell.label, cell.code.split("\n"), assigned, functions)
        finder.claimed = claims
        finder.body(tree.body)
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
            or _said(by_place.get((f.cell, f.line)), f) or _why(f)
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


def _why(f: Found) -> str:
    if f.function and f.kind != "function":   # dx = ... inside def analytical_gradient():
        return (f"no case uses it: it is written inside {f.function}(), whose body the draft "
                "does not follow as a derivative (only a function returning one formula)")
    return {
        "function": "no case uses it: it is neither compared with a .grad autograd computed "
                    "nor printed with its value where the draft follows the graph",
        "compared": "no case uses it: the draft does not follow the .grad it is compared with",
        "printed": "no case uses it: it is printed beside autograd's .grad, not compared with "
                   "it (==, torch.allclose or assert make a comparison the draft checks)",
        "attribute": "no case uses it: a gradient kept in an attribute of its own (x.g), which "
                     "the draft does not follow",
    }.get(f.kind, "no case uses it: the draft matched it to no graph it follows")


class _Finder:
    def __init__(self, cell: str, lines: list[str], assigned: set[str], functions: set[str]):
        self.cell, self.lines = cell, lines
        self.assigned, self.functions = assigned, functions
        self.found: list[Found] = []
        self.in_class = False
        self.function = ""          # the derivative function whose body is read
        self.grad_printed = False   # the statement before printed a .grad
        self.formulas: dict[str, ast.stmt] = {}   # name -> the formula last assigned to it
        self.claimed: set[str] = set()   # names a cmp() compares with a .grad (_claims)

    def add(self, node: ast.AST, kind: str, function: str = "", reason: str = "") -> None:
        line = getattr(node, "lineno", 0)
        text = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        if any(f.line == line for f in self.found):   # one a statement
            return
        self.found.append(Found(self.cell, line, one_line(text, 200), kind,
                                function or self.function, reason))

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)
            self.grad_printed = _printed(statement) is not None and (
                self.grad_printed or any(map(_is_grad, ast.walk(statement))))

    def statement(self, s: ast.stmt) -> None:
        if isinstance(s, ast.ClassDef):
            function = any(_dotted(b).endswith("Function") for b in s.bases)
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
            if not self.in_class and _derivative_function(s):
                # each derivative its body writes counts (dx, dw, db = ...; inp.g = ...), the
                # function itself when it only returns one
                before, outer, self.function = len(self.found), self.function, s.name
                self.body(s.body)
                self.function = outer
                returned = [n for n in ast.walk(s) if isinstance(n, ast.Return) and n.value]
                if returned and len(self.found) == before:
                    self.add(s, "function", function=s.name)
                return
            self.body(s.body)
            return
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            self.assignment(s)
            self.remember(s)
        elif isinstance(s, (ast.Expr, ast.Assert)):
            value = s.value if isinstance(s, ast.Expr) else s.test
            kept = self.compared_name(value)
            if kept is not None:
                self.add(kept, "compared", reason=CLASS_RULE if self.in_class else "")
            if self.compared(value) or (self.grad_printed and self.printed_formula(value)):
                self.add(s, "printed" if _printed(s) is not None and not any(
                    isinstance(n, ast.Compare) or ((isinstance(n, ast.Call) and n is not value)
                    and _comparer(n.func)) for n in ast.walk(value))
                    else "compared", reason=CLASS_RULE if self.in_class else "")
        for field in ("body", "orelse", "finalbody"):   # a loop's, an if's, a with's, a try's
            block = getattr(s, field, None)
            if isinstance(block, list):
                self.body(block)
        for handler in getattr(s, "handlers", None) or []:
            self.body(handler.body)

    def assignment(self, s) -> None:
        value = s.value
        if value is None or _read_back(value) or _finite_difference(value):
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
            if isinstance(base, ast.Name) and self.derivative_name(base.id):
                self.add(s, "class" if self.in_class else "variable",
                         reason=CLASS_RULE if self.in_class else "")
                return

    def remember(self, s) -> None:
        for target in _targets(s):
            if isinstance(target, ast.Name):
                self.formulas.pop(target.id, None)
                if isinstance(s, ast.Assign) and s.value is not None \
                        and self.formula(s.value) and _computes(s.value):
                    self.formulas[target.id] = s

    def derivative_name(self, name: str) -> bool:
        if NOT_BY_HAND.search(name):
            return False
        if PAIR.match(name) or NAMED.match(name) or RATIO.match(name) or name in self.claimed:
            return True
        rest = name[1:].lstrip("_")
        return name.startswith("d") and bool(rest) and rest in self.assigned

    def compared(self, node: ast.expr) -> bool:
        """A formula compared with a .grad, or printed beside one (not a derivative already
        found under its own name: that one's line is its assignment's)."""
        for n in ast.walk(node):
            sides = None
            if isinstance(n, ast.Compare) and len(n.comparators) == 1:
                sides = [n.left, n.comparators[0]]
            elif isinstance(n, ast.Call) and (_comparer(n.func) or _dotted(n.func) == "print"):
                sides = list(n.args)
            if sides and any(_is_grad(x) for x in sides):
                hands = [x for x in sides if not _is_grad(x)]
                if any(self.formula(h) for h in hands):
                    return True
        return False

    def compared_name(self, node: ast.expr) -> ast.stmt | None:
        """`z = x * 18` of `assertEqual(z, x.grad)`: a formula kept in a name a line above
        and compared with a .grad (printed beside one is not a comparison)."""
        for n in ast.walk(node):
            sides = [n.left, *n.comparators] if isinstance(n, ast.Compare) else \
                list(n.args) if isinstance(n, ast.Call) and _comparer(n.func) else []
            if any(_is_grad(x) for x in sides):
                for x in sides:
                    if isinstance(x, ast.Name) and x.id in self.formulas:
                        return self.formulas[x.id]
        return None

    def printed_formula(self, node: ast.expr) -> bool:
        """print(2 * x * (w*x + b - y)) right after print(w.grad): the formula shown beside
        autograd's value, a line below."""
        args = _printed(node)
        return args is not None and any(self.formula(a) and _reads_name(a) for a in args)

    def formula(self, node: ast.expr) -> bool:
        """An expression that computes (an operation or a call over a name), not a name of a
        derivative found elsewhere nor a call of a derivative function."""
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if any(self.derivative_name(n) or n in self.functions for n in names):
            return False
        # constants alone count: `32*1.0**3 + 9*1.0**2 == x.grad` is a derivative evaluated
        # by hand (at a point, maybe the wrong one)
        return isinstance(node, (ast.BinOp, ast.UnaryOp)) and not _finite_difference(node)


def _comparer(func: ast.expr) -> bool:
    last = _dotted(func).split(".")[-1]
    return last in COMPARERS or bool(ASSERTS.search(last))


def _derivative_function(node) -> bool:
    return bool(FUNCTION.search(node.name)) and not NOT_BY_HAND.search(node.name) \
        and not DRAWING.search(node.name) and not _helper(node)


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
    function returning a lambda or a function: named like a derivative, computing none; and
    `def derivative(f, x): return (f(x + h) - f(x)) / h`, measuring one."""
    returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
    inner = {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.Lambda))
             and n is not node and hasattr(n, "name")}
    return bool(returned) and all(
        _read_back(v) or _finite_difference(v) or isinstance(v, ast.Lambda)
        or (isinstance(v, ast.Name) and v.id in inner)
        or (isinstance(v, ast.Call) and _dotted(v.func).endswith("requires_grad_"))
        for v in returned)


def _read_back(value: ast.expr) -> bool:
    """x.grad, x.grad.item(), x.grad.clone(), x.grad.data (or fast.ai's x.g), what
    torch.autograd.grad returns: a gradient already computed, read back, not one computed
    here."""
    if isinstance(value, ast.Call) and _dotted(value.func).endswith("autograd.grad"):
        return True   # grad_x, = torch.autograd.grad(y, x): autograd's
    while True:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr in READ_BACK and not value.args:
            value = value.func.value
        elif (isinstance(value, ast.Attribute) and value.attr == "data") \
                or isinstance(value, ast.Subscript):   # x.grad.data, x.grad[0, 0]
            value = value.value
        else:
            return isinstance(value, ast.Attribute) and value.attr in ("grad", "g")


def _printed(node) -> list[ast.expr] | None:
    """A print's arguments (an f-string's values among them), None for anything else."""
    if isinstance(node, ast.Expr):
        node = node.value
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "print"):
        return None
    out: list[ast.expr] = []
    for arg in node.args:
        out += [v.value for v in arg.values if isinstance(v, ast.FormattedValue)] \
            if isinstance(arg, ast.JoinedStr) else [arg]
    return out


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
    if isinstance(value, ast.Call) and _dotted(value.func).split(".")[-1] in RESETS:
        return False
    return any(isinstance(n, ast.Name) and n.id not in ("torch", "np", "numpy", "math", "F")
               for n in ast.walk(value))


def _is_grad(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "grad"


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    return ""
