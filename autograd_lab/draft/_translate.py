"""A notebook's Python expressions translated into the case language, through tables.

Cells are parsed with `ast` and never run: a tensor's value is read from its literal, an
expression is rebuilt from the spellings below and must then pass the project's one allow-list
(autograd_lab.case.parse). What is not in a table is refused with what and where, never
guessed. The tensor forms (@, subscripts, methods with keywords, dims) are _tensorforms'; what
a name holds (Leaf, Node, Dim, ...) is _held's."""
from __future__ import annotations

import ast
import copy
import math
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from ..case import constant_value, parse
from ..errors import CaseError
from ..ops import CONSTANTS as OP_CONSTANTS
from ..ops import FUNCTIONS as OPS
from ._held import Dim, Func, Generator, Leaf, Listed, Names, Node, Translated, Unsupported, one
from ._tensorforms import TensorForms, tensor_form

# --- the tables ----------------------------------------------------------------------------

OPERATORS = {ast.Add: ast.Add, ast.Sub: ast.Sub, ast.Mult: ast.Mult, ast.Div: ast.Div,
             ast.Pow: ast.Pow, ast.MatMult: ast.MatMult}
# operators a notebook may use that the language has not got: what to call them
NOT_YET = {ast.FloorDiv: "floor division //", ast.Mod: "the remainder %"}

# the scalar language's functions, from the one table of operations (ops): each spelled as
# torch, math and numpy spell it, where the library has it under the language's name
_SCALAR = [name for name, op in OPS.items() if op.scalar]
# a function as the notebook spells it (module aliases resolved) -> the language's function
FUNCTIONS = {
    **{f"torch.{f}": f for f in _SCALAR if hasattr(torch, f)},
    **{f"math.{f}": f for f in _SCALAR if hasattr(math, f)},
    **{f"numpy.{f}": f for f in _SCALAR if hasattr(np, f) and not OPS[f].reduces},
    "torch.nn.functional.sigmoid": "sigmoid", "torch.nn.functional.relu": "relu",
    "torch.nn.functional.tanh": "tanh", "torch.special.expit": "sigmoid",
    "torch.nn.functional.softplus": "softplus",
    "torch.clip": "clamp", "math.fabs": "abs", "abs": "abs",
}
MASKS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)   # z > 0: a mask of the language
POWERS = {"torch.pow", "math.pow", "numpy.power", "pow"}   # f(a, b) -> a**b
# torch.add(a, b) and a.add(b) -> a + b: the operator they spell
SPELLED_OPERATORS = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "div": ast.Div,
                     "mm": ast.MatMult}
# x.f(...) -> f(x, ...): the methods that are functions of the language
METHODS = {f: f for f in _SCALAR if hasattr(torch.Tensor, f)}
METHOD_POWERS = {"pow"}
# keyword -> its place among the arguments after the tensor (clamp(x, min=lo, max=hi))
KEYWORDS = {"clamp": ("min", "max")}
# the language's constants (ops' table) as the libraries spell them: math.pi, torch.e, ...
CONSTANTS = {f"{module.__name__}.{c}": c for module in (math, torch, np) for c in OP_CONSTANTS
             if hasattr(module, c)}
KNOWN_MODULES = {"torch", "math", "numpy", "torch.nn", "torch.nn.functional", "torch.special"}
# tensor constructors -> the dtype they make (None: from the literal, as torch.tensor does)
CONSTRUCTORS = {"torch.tensor": None, "torch.Tensor": "float32", "torch.FloatTensor": "float32",
                "torch.DoubleTensor": "float64", "torch.as_tensor": None}
DTYPES = {"torch.float32": "float32", "torch.float": "float32", "torch.float64": "float64",
          "torch.double": "float64"}
# how tutorials name a derivative: (pattern, kind). "partial": dz_dx, a function or a
# variable, becomes a chain_rule or gradient entry. "adjoint": dlogits, a tensor, an entry of
# a backward: pass (autograd_lab.draft._backward)
DERIVATIVE_NAMES = [
    (re.compile(r"^d(?P<of>[A-Za-z]\w*?)_d(?P<wrt>[A-Za-z]\w*)$"), "partial"),
    (re.compile(r"^d(?P<of>[A-Za-z]\w*)$"), "adjoint"),
]

MAX_DEPTH = 100        # nesting of a notebook expression followed
MAX_INLINING = 8       # helper functions inlined inside each other
MAX_ELEMENTS = 10_000  # of a tensor literal
MAX_NESTING = 8        # lists in a tensor literal


# --- expressions ---------------------------------------------------------------------------

class Translator(TensorForms):
    """Rebuilds an expression from the tables; env maps notebook names to what they hold."""

    def __init__(self, modules: dict[str, str], env: dict):
        self.modules = modules     # alias -> module ("np" -> "numpy"), or function spelling
        self.env = env

    def expression(self, node: ast.expr, local: dict | None = None,
                   values: bool = False) -> Translated:
        """node in the language; with values, a formula only evaluated, never differentiated
        (a hand-written derivative), in which x.item() is x's value: the same number."""
        deps: dict = {}
        was, self.values = self.values, values
        try:
            tree = self._visit(node, local or {}, deps, 0, ())
        finally:
            self.values = was
        return Translated(tree, checked_text(tree), deps)

    def formula(self, func: Func, names: list[str]) -> Translated:
        """A helper's return expression with its parameters standing as names (dz_dx(x))."""
        local = {p: ast.Name(n, ast.Load()) for p, n in zip(func.params, names)}
        deps: dict = {}
        tree = self._inline_body(func, local, deps, 0, ())
        return Translated(tree, checked_text(tree), deps)

    # the walk

    def _visit(self, node, local, deps, depth, stack) -> ast.expr:
        if depth > MAX_DEPTH:
            raise Unsupported(f"the expression is nested more than {MAX_DEPTH} deep", node)
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(_what(node), node)
        return method(node, local, deps, depth + 1, stack)

    def _Compare(self, node, local, deps, depth, stack):
        """z > 0: the language's mask (0 and 1, never differentiated): (z > 0).float(), a
        ReLU's derivative by hand."""
        if len(node.ops) != 1 or not isinstance(node.ops[0], MASKS):
            raise Unsupported("a comparison other than one of < <= > >= == != is not in the "
                              "expression language", node)
        return ast.Compare(self._visit(node.left, local, deps, depth, stack), [type(node.ops[0])()],
                           [self._visit(node.comparators[0], local, deps, depth, stack)])

    def _Constant(self, node, local, deps, depth, stack):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise Unsupported(f"the constant {one(node)} is not a number", node)
        return ast.Constant(node.value)

    def _Name(self, node, local, deps, depth, stack):
        if node.id in local:
            bound = local[node.id]
            if isinstance(bound, Translated):
                deps.update(bound.deps)
                return copy.deepcopy(bound.tree)
            return copy.deepcopy(bound)
        held = self.env.get(node.id)
        if isinstance(held, (Leaf, Node)):
            if isinstance(held, Node) and held.dtype is None and held.inline:
                deps.update(held.deps)
                return copy.deepcopy(held.tree)   # a plain number: written in place
            deps[node.id] = held
            return ast.Name(node.id, ast.Load())
        if isinstance(held, Dim):
            deps.update(held.base_dims())
            return copy.deepcopy(held.written())
        if isinstance(held, (Generator, Names)):
            what = "a generator" if isinstance(held, Generator) else "a list of names"
            raise Unsupported(f"{node.id} ({what}) used as a value", node)
        if isinstance(held, Func):
            raise Unsupported(f"the function {node.id} used as a value", node)
        if node.id in self.modules:
            raise Unsupported(f"the module {node.id} used as a value", node)
        raise Unsupported(f"{node.id} is not defined by an earlier statement the draft "
                          "understood", node)

    def _UnaryOp(self, node, local, deps, depth, stack):
        operand = self._visit(node.operand, local, deps, depth, stack)
        if isinstance(node.op, ast.USub):
            return ast.UnaryOp(ast.USub(), operand)
        if isinstance(node.op, ast.UAdd):
            return operand
        raise Unsupported(f"the operator {type(node.op).__name__} is not in the language", node)

    def _BinOp(self, node, local, deps, depth, stack):
        op = OPERATORS.get(type(node.op))
        if op is None:
            said = NOT_YET.get(type(node.op), f"the operator {type(node.op).__name__}")
            raise Unsupported(f"{said}: not in the expression language", node)
        return ast.BinOp(self._visit(node.left, local, deps, depth, stack), op(),
                         self._visit(node.right, local, deps, depth, stack))

    def _Attribute(self, node, local, deps, depth, stack):
        spelled = self.dotted(node)
        if spelled in CONSTANTS:
            return ast.Name(CONSTANTS[spelled], ast.Load())
        return super()._Attribute(node, local, deps, depth, stack)   # .T, .values, .indices

    def _Call(self, node, local, deps, depth, stack):
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise Unsupported(f"*arguments in {one(node)}", node)
        spelled = self.dotted(node.func)

        def visit(n):
            return self._visit(n, local, deps, depth, stack)
        if (spelled in FUNCTIONS or spelled in POWERS) and _plain_keywords(
                FUNCTIONS.get(spelled, "**"), node):
            if spelled.startswith("math.") and any(self._tensor_in(a, local) for a in node.args):
                raise Unsupported(f"{spelled}() of a tensor gives a plain float, cut from the "
                                  "graph", node)
            return self._function(FUNCTIONS.get(spelled, "**"), [visit(a) for a in node.args],
                                  node.keywords, visit, node)
        operands = self._operands(node, spelled)
        if operands is not None:
            name = spelled.rpartition(".")[2] if spelled else node.func.attr
            return ast.BinOp(visit(operands[0]), SPELLED_OPERATORS[name](), visit(operands[1]))
        if isinstance(node.func, ast.Attribute) and spelled is None:
            name = node.func.attr
            if (name in METHODS or name in METHOD_POWERS) and _plain_keywords(
                    METHODS.get(name, "**"), node):
                args = [visit(node.func.value)] + [visit(a) for a in node.args]
                return self._function(METHODS.get(name, "**"), args, node.keywords, visit, node)
        if isinstance(node.func, ast.Name) and isinstance(self.env.get(node.func.id), Func):
            return self._inline(self.env[node.func.id], node, local, deps, depth, stack)
        if (isinstance(node.func, ast.Name) and node.func.id == "len" and "len" not in self.env
                and len(node.args) == 1 and not node.keywords):
            return self.size_of(node.args[0], ast.Constant(0), deps, node)
        if spelled is not None or isinstance(node.func, ast.Attribute):
            return self.tensor_call(node, spelled, visit, deps)   # the tensor language's
        raise Unsupported(f"{one(node.func)}(): the draft does not translate it", node)

    @staticmethod
    def _operands(node: ast.Call, spelled: str | None) -> list[ast.expr] | None:
        """The two operands of torch.add(a, b) or a.add(b) (no keywords: alpha= scales)."""
        if node.keywords:
            return None
        if spelled is not None and spelled.startswith("torch.") \
                and spelled[len("torch."):] in SPELLED_OPERATORS and len(node.args) == 2:
            return list(node.args)
        if spelled is None and isinstance(node.func, ast.Attribute) \
                and node.func.attr in SPELLED_OPERATORS and len(node.args) == 1:
            return [node.func.value, node.args[0]]
        return None

    def _function(self, name: str, args: list, keywords: list, visit, node) -> ast.expr:
        if keywords:
            allowed = KEYWORDS.get(name, ())
            for keyword in keywords:
                if keyword.arg not in allowed:
                    raise Unsupported(f"the keyword {keyword.arg}= of {name}(): the draft does "
                                      "not translate it yet", node)
            by_name = {k.arg: k.value for k in keywords}
            args = args + [visit(by_name[k]) for k in allowed[len(args) - 1:] if k in by_name]
        if name == "**":
            if len(args) != 2:
                raise Unsupported(f"a power takes 2 arguments, not {len(args)}", node)
            return ast.BinOp(args[0], ast.Pow(), args[1])
        return ast.Call(ast.Name(name, ast.Load()), args, [])

    def _inline(self, func: Func, node, local, deps, depth, stack) -> ast.expr:
        if func.problem:
            raise Unsupported(f"{func.name}() cannot be inlined: {func.problem}", node)
        if func.name in stack or len(stack) >= MAX_INLINING:
            raise Unsupported(f"{func.name}() calls itself or nests helpers more than "
                              f"{MAX_INLINING} deep", node)
        if len(node.args) > len(func.params):
            raise Unsupported(f"{func.name}() takes {len(func.params)} arguments", node)
        bound = {p: Translated(self._visit(a, local, deps, depth, stack), "", {})
                 for p, a in zip(func.params, node.args)}
        for keyword in node.keywords:
            if keyword.arg not in func.params or keyword.arg in bound:
                raise Unsupported(f"the keyword {keyword.arg}= of {func.name}()", node)
            bound[keyword.arg] = Translated(self._visit(keyword.value, local, deps, depth, stack),
                                            "", {})
        missing = [p for p in func.params if p not in bound]
        if missing:
            raise Unsupported(f"{func.name}() is called without {', '.join(missing)}", node)
        return self._inline_body(func, bound, deps, depth, stack + (func.name,))

    def _inline_body(self, func: Func, local: dict, deps, depth, stack) -> ast.expr:
        local = dict(local)
        for statement in func.body[:-1]:   # assignments to one name each (Func's promise)
            assert isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name)
            local[statement.targets[0].id] = self._visit(statement.value, local, deps, depth,
                                                         stack)
        returned = func.body[-1]
        assert isinstance(returned, ast.Return) and returned.value is not None
        return self._visit(returned.value, local, deps, depth, stack)

    def _tensor_in(self, node, local) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id not in local:
                held = self.env.get(sub.id)
                if isinstance(held, Leaf) or (isinstance(held, Node) and held.dtype):
                    return True
        return False

    def dotted(self, node) -> str | None:
        """a.b.c with its first name a module alias, resolved: np.sin -> numpy.sin; else None."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.modules:
            return ".".join([self.modules[node.id]] + parts[::-1])
        if not parts and node.id in ("abs", "pow") and node.id not in self.env:
            return node.id  # the builtins
        return None


def _plain_keywords(name: str, node: ast.Call) -> bool:
    """Whether a call's keywords are those the scalar spelling takes (clamp's min, max); else
    it is written in the tensor language's spelling, keywords kept (x.sum(1, keepdim=True))."""
    return all(k.arg in KEYWORDS.get(name, ()) for k in node.keywords)


def checked_text(tree: ast.expr) -> str:
    """The case language's text of a rebuilt tree, once expr.parse (the allow-list) takes it:
    the language's spelling for the scalar forms, the tutorial's for the tensor forms."""
    try:
        text = ast.unparse(tree)
    except (RecursionError, ValueError):
        raise Unsupported("the expression is too deep to write") from None
    try:
        parsed = parse(text)
        return text if tensor_form(tree) else str(parsed)
    except CaseError as exc:
        raise Unsupported(f"the expression language refuses it: {exc.message}") from None


def renamed(tree: ast.expr, names: dict) -> ast.expr:
    """A copy of tree with its names replaced (a case's names must be unique and safe), or
    written in place where names gives a tree (a dim as its number, in a behaviour case)."""
    class Rename(ast.NodeTransformer):
        def visit_Name(self, node):
            new = names.get(node.id, node.id)
            return copy.deepcopy(new) if isinstance(new, ast.AST) else ast.Name(new, ast.Load())
    return Rename().visit(copy.deepcopy(tree))


def sized(text: str, names: dict) -> str | int:
    """A size as a case writes it (n_embd*block_size), its names replaced: by other names, or
    by numbers (given as int), in which case the size is its number."""
    tree = renamed(ast.parse(text, mode="eval").body,
                   {n: ast.Constant(v) if isinstance(v, int) else v for n, v in names.items()})
    if not any(isinstance(n, ast.Name) for n in ast.walk(tree)):
        return int(constant_value(parse(ast.unparse(tree))))
    return ast.unparse(tree).replace(" ", "")


def shape_of(tree: ast.expr, deps: dict) -> tuple:
    """() for a scalar, else the one shape of its vectors (sum and mean give a scalar)."""
    if isinstance(tree, ast.Name):
        held = deps.get(tree.id)
        return held.shape if held is not None else ()
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name) \
            and tree.func.id in ("sum", "mean"):
        shape_of(tree.args[0], deps)
        return ()
    found = {shape_of(c, deps) for c in ast.iter_child_nodes(tree)
             if isinstance(c, ast.expr)} - {()}
    if len(found) > 1:
        raise Unsupported("vectors of different shapes " + " and ".join(map(str, sorted(found))))
    return found.pop() if found else ()


# --- tensors from literals -----------------------------------------------------------------

@dataclass
class Made:
    """The input a constructor makes: its value (a literal, or a Drawn), dtype, grad, shape,
    and the dims its shape is written with."""

    value: object
    dtype: str
    grad: bool
    shape: tuple
    dims: dict = field(default_factory=dict)


def constructor(node: ast.expr, translator: Translator) -> Made | None:
    """torch.tensor(3.0, requires_grad=True), torch.Tensor([...]).double(), ...: the tensor it
    makes, read from the literal; None when node is not a constructor."""
    chain = []
    while (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
           and translator.dotted(node.func) is None):
        chain.append(node)
        node = node.func.value
    if not isinstance(node, ast.Call) or translator.dotted(node.func) not in CONSTRUCTORS:
        return None
    made = _made(node, translator)
    for call in reversed(chain):
        made = _method(made, call, translator)
    return made


def _made(node: ast.Call, translator: Translator) -> Made:
    spelled = translator.dotted(node.func) or ""
    if len(node.args) != 1:
        raise Unsupported(f"{spelled}() with {len(node.args)} arguments (the draft reads one "
                          "literal)", node)
    given = node.args[0]
    if isinstance(given, ast.Name) and isinstance(translator.env.get(given.id), Listed):
        given = translator.env[given.id].node   # torch.tensor(data), data = [0.5, -1.0]
    values, floats = literal(given)
    dtype = CONSTRUCTORS[spelled] or ("float32" if floats else "int64")
    grad = False
    for keyword in node.keywords:
        if keyword.arg == "requires_grad":
            grad = flag(keyword.value)
        elif keyword.arg == "dtype":
            named = DTYPES.get(translator.dotted(keyword.value) or "")
            if named is None:
                raise Unsupported(f"the dtype {one(keyword.value)} (the draft knows float32 and "
                                  "float64)", keyword.value)
            dtype = named
        elif keyword.arg == "device" and isinstance(keyword.value, ast.Constant) \
                and keyword.value.value == "cpu":
            continue
        else:
            raise Unsupported(f"the keyword {keyword.arg}= of {spelled}()", node)
    array = np.asarray(values, dtype=np.float64)
    return Made(_rounded(array, dtype), dtype, grad, array.shape)


def _method(made: Made, call: ast.Call, translator: Translator) -> Made:
    assert isinstance(call.func, ast.Attribute)   # constructor() follows method calls only
    name = call.func.attr
    if name in ("double", "float") and not call.args and not call.keywords:
        return _cast(made, "float64" if name == "double" else "float32", call)
    if name == "to" and len(call.args) == 1 and not call.keywords:
        dtype = DTYPES.get(translator.dotted(call.args[0]) or "")
        if dtype:
            return _cast(made, dtype, call)
    if name == "requires_grad_" and len(call.args) <= 1 and not call.keywords:
        grad = flag(call.args[0]) if call.args else True
        return Made(made.value, made.dtype, grad, made.shape)
    if name in ("clone", "detach") and not call.args and not call.keywords:
        return Made(made.value, made.dtype, False if name == "detach" else made.grad, made.shape)
    raise Unsupported(f"the method .{name}() on a new tensor", call)


def _cast(made: Made, dtype: str, call) -> Made:
    if made.grad:
        raise Unsupported(f".{call.func.attr}() of a tensor that requires grad makes a non-leaf, "
                          "whose .grad stays None", call)
    array = np.asarray(made.value, dtype=np.float64)
    return Made(_rounded(array, dtype), dtype, False, made.shape)


def _rounded(array: np.ndarray, dtype: str):
    """The values as the dtype holds them: float32 rounds, and that rounding is kept."""
    if dtype == "float32":
        array = array.astype(np.float32).astype(np.float64)
    elif dtype == "int64":
        array = np.trunc(array)
    return array.tolist()


def listed(node: ast.expr) -> bool:
    """Whether node is a (nested) list of numbers a tensor can be made from."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return False
    try:
        literal(node)
    except Unsupported:
        return False
    return True


def literal(node: ast.expr) -> tuple[object, bool]:
    """A number or (nested) list of numbers written in the cell, and whether any is a float."""
    floats = [False]
    count = [0]

    def value(n, depth):
        if depth > MAX_NESTING:
            raise Unsupported(f"a tensor literal nested more than {MAX_NESTING} deep", n)
        if isinstance(n, (ast.List, ast.Tuple)):
            items = [value(e, depth + 1) for e in n.elts]
            if not items or len({_shape(i) for i in items}) != 1:
                raise Unsupported("a tensor literal that is empty or not rectangular", n)
            return items
        sign = 1
        while isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            sign, n = sign * (-1 if isinstance(n.op, ast.USub) else 1), n.operand
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) \
                and not isinstance(n.value, bool):
            count[0] += 1
            if count[0] > MAX_ELEMENTS:
                raise Unsupported(f"a tensor literal of more than {MAX_ELEMENTS:,} elements", n)
            floats[0] |= isinstance(n.value, float)
            number = sign * n.value
            if isinstance(number, float) and not np.isfinite(number):
                raise Unsupported("a tensor literal holding inf or nan", n)
            return number
        raise Unsupported(f"the tensor's value {one(n)} is not a literal number or list", n)

    return value(node, 0), floats[0]


def _shape(item) -> tuple:
    return (len(item),) + _shape(item[0]) if isinstance(item, list) else ()


def flag(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    raise Unsupported(f"requires_grad given as {one(node)}, not True or False", node)


# --- names ---------------------------------------------------------------------------------

def derivative(name: str, known, claimed: dict[str, str] | None = None,
               paired: dict[str, str] | None = None) -> tuple[str, str, str] | None:
    """(kind, of, wrt) when name is a derivative named the tutorials' way: dz_dx is dz/dx,
    dy_pred_dz is d(y_pred)/dz (the split whose both sides are known names is taken); else
    when the notebook's comparisons claim it is one (claimed: d-name -> name, see _claims);
    else, its name saying nothing, when a line pairs it with a leaf's .grad (paired: name ->
    leaf, `torch.allclose(w.grad, slope)`)."""
    found = _spelled(name, known)
    if claimed and name in claimed and known(claimed[name]) and found is not None \
            and found[0] == "adjoint" and found[1] != claimed[name]:
        # dy of y = x ** 4 compared as x.grad == dy: the comparison says whose (dy/dx)
        return "adjoint", claimed[name], ""
    if found is not None and (found[0] == "adjoint" or known(found[2])):
        return found
    if claimed and name in claimed and known(claimed[name]):
        return "adjoint", claimed[name], ""
    if paired and name in paired and known(paired[name]):   # df_dx_manual: x_manual unknown
        return "adjoint", paired[name], ""
    return found


def _spelled(name: str, known) -> tuple[str, str, str] | None:
    for pattern, kind in DERIVATIVE_NAMES:
        if not pattern.match(name):
            continue
        if kind == "adjoint":
            of = name[1:]
            return (kind, of, "") if known(of) else None
        splits = [(name[1:i], name[i + 2:]) for i in range(2, len(name) - 2)
                  if name[i:i + 2] == "_d"]
        splits = [s for s in splits if s[0] and s[1] and s[1][0].isalpha()]
        for of, wrt in splits:
            if known(of) and known(wrt):
                return kind, of, wrt
        for of, wrt in splits:
            if known(wrt):
                return kind, of, wrt
        if splits:
            return (kind,) + splits[0]
    of = _gradient_of(name)
    return ("adjoint", of, "") if of and known(of) else None


# grad_w, w_grad, analytic_grad_w, manual_w_grad: the gradient of w, by hand; never a name
# that says it is autograd's or measured (torch_grad_w, numerical_grad_w)
GRADIENT_WORDS = frozenset({"grad", "grads", "gradient"})
QUALIFIERS = frozenset({"manual", "analytic", "analytical", "my", "hand", "computed",
                        "exact", "formula", "true", "expected"})
NOT_BY_HAND = frozenset({"auto", "autograd", "torch", "pytorch", "numerical", "numeric", "num",
                         "fd", "approx", "finite", "estimated"})


def _gradient_of(name: str) -> str:
    """w of grad_w and of analytic_grad_w: the one name left when the words saying it is a
    gradient written by hand are taken away ('' when none or several are left)."""
    words = name.split("_")
    lowered = {w.lower() for w in words}
    if not lowered & GRADIENT_WORDS or lowered & NOT_BY_HAND:
        return ""
    rest = [w for w in words if w and w.lower() not in GRADIENT_WORDS | QUALIFIERS]
    return "_".join(rest) if rest and re.fullmatch(r"[A-Za-z]\w*", "_".join(rest)) else ""


def case_name(name: str, taken: set[str]) -> str:
    """A name the case language accepts for a notebook name: as it is when it can be; else a
    variant (e, pi, sum, _x and non-ASCII names would be read as something else or refused)."""
    candidate = name if _plain(name) else "v_" + re.sub(r"\W", "_", name.lstrip("_")).strip("_")
    if not _plain(candidate):
        candidate = "v"
    base, n = candidate, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _plain(name: str) -> bool:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        return False
    try:
        return parse(name).names() == frozenset((name,))
    except CaseError:
        return False


_WHAT = {
    "Subscript": "a subscript (x[i]): the draft does not translate it yet",
    "BoolOp": "and/or are not in the expression language",
    "IfExp": "a conditional expression is not in the expression language",
    "Lambda": "a lambda is not in the expression language",
    "JoinedStr": "an f-string is not a number",
    "List": "a list is not in the expression language (a vector is an input)",
    "Tuple": "a tuple is not in the expression language",
}


def _what(node) -> str:
    return _WHAT.get(type(node).__name__,
                     f"{type(node).__name__} ({one(node)}) is not in the expression language")
