"""The tensor forms of a notebook's expressions, rebuilt in the case language as the tutorial
spells them: `h.T @ dlogits`, `logprobs[range(n), Yb]`, `counts.sum(1, keepdim=True)`,
`F.one_hot(Yb, num_classes=vocab_size)`, `emb.view(emb.shape[0], -1)`.

The language's own table (autograd_lab.ops) says which functions, methods and keywords there
are; a name the notebook binds to an integer used as a size is a dim (`n`), written by name so
that the case can be read again at other sizes. What an expression gives (its shape, integers
or not) is main's judgement: autograd_lab.case.kind_of, with the dims, never a guess here."""
from __future__ import annotations

import ast
import copy
import math

from ..case import Kind, bind, declared, kind_of, parse
from ..errors import CaseError
from ..ops import FUNCTIONS as OPS
from ..ops import KEYWORDS as OP_KEYWORDS
from ..reading import MAX_ELEMENTS
from ._held import Dim, Leaf, Node, Translated, Unsupported, one

# a module function as the notebook spells it (aliases resolved) -> how the case spells it
MODULE_PREFIXES = {"torch": "torch", "torch.nn.functional": "F"}
ATTRIBUTES = ("T", "values", "indices")   # the attributes the language has
SPREAD = ("view", "reshape")              # x.view((n, -1)) is x.view(n, -1)
# x.item(), x.detach(): x's value cut from the graph, x itself where nothing is differentiated
CUTS = ("item", "detach")


class TensorForms:
    """The Translator's visits for the tensor forms (mixed into autograd_lab.draft's
    Translator, whose _visit, dotted, env and modules these use)."""

    env: dict
    values = False   # translating a formula only evaluated (see Translator.expression)

    def _visit(self, node, local, deps, depth, stack) -> ast.expr:  # the Translator's
        raise NotImplementedError

    def dotted(self, node) -> str | None:  # the Translator's
        raise NotImplementedError

    def _Subscript(self, node, local, deps, depth, stack):
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":
            return self.size_of(node.value.value, node.slice, deps, node)

        def visit(n):
            return self._visit(n, local, deps, depth, stack)
        entries = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        index = [self._index(e, visit) for e in entries]
        return ast.Subscript(visit(node.value),
                             index[0] if len(index) == 1 else ast.Tuple(index, ast.Load()),
                             ast.Load())

    def _index(self, entry, visit) -> ast.expr:
        if isinstance(entry, ast.Slice):
            if entry.step is not None:
                raise Unsupported("a slice with a step (a:b:c): the language takes a:b", entry)
            return ast.Slice(None if entry.lower is None else visit(entry.lower),
                             None if entry.upper is None else visit(entry.upper))
        count = self.counted_rows(entry)
        if count is not None:
            return ast.Call(ast.Name("range", ast.Load()), [visit(count)], [])
        return visit(entry)

    def counted_rows(self, entry) -> ast.expr | None:
        """n of range(n), torch.arange(n) or np.arange(n) in a subscript (one index a row,
        the language's range(n)); None for any other index."""
        if not isinstance(entry, ast.Call):
            return None
        if isinstance(entry.func, ast.Name) and entry.func.id == "range" \
                and "range" not in self.env:
            what = "range()"
        elif self.dotted(entry.func) in ("torch.arange", "numpy.arange"):
            what = f"{self.dotted(entry.func)}()"
        else:
            return None
        if len(entry.args) != 1 or entry.keywords:
            raise Unsupported(f"{what} with other than one argument in a subscript", entry)
        return entry.args[0]

    def _Attribute(self, node, local, deps, depth, stack):
        if node.attr in ATTRIBUTES and self.dotted(node.value) is None:
            return ast.Attribute(self._visit(node.value, local, deps, depth, stack), node.attr,
                                 ast.Load())
        raise Unsupported(f"the attribute {one(node)}: the draft does not translate it", node)

    def tensor_call(self, node: ast.Call, spelled: str | None, visit, deps: dict) -> ast.expr:
        """torch.f(...), F.f(...) or x.f(...) of the language's table, keywords kept."""
        if spelled is not None:
            module, _, name = spelled.rpartition(".")
            prefix = MODULE_PREFIXES.get(module)
            if prefix is None or name not in OPS:
                raise Unsupported(f"{spelled}(): the draft does not translate it", node)
            func: ast.expr = ast.Attribute(ast.Name(prefix, ast.Load()), name, ast.Load())
        elif isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name == "size":
                return self.size_of(node.func.value, node.args[0] if node.args else None, deps,
                                    node)
            if name == "t" and not node.args and not node.keywords:   # x.t(): the language's x.T
                return ast.Attribute(visit(node.func.value), "T", ast.Load())
            if name in CUTS and self.values and not node.args and not node.keywords:
                return visit(node.func.value)   # a stop-gradient where nothing is differentiated
            if name not in OPS or not OPS[name].method:
                raise Unsupported(f"the method .{name}(): the draft does not translate it", node)
            func = ast.Attribute(visit(node.func.value), name, ast.Load())
        else:
            raise Unsupported(f"{one(node.func)}(): the draft does not translate it", node)
        args = node.args
        if name in SPREAD and len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
            args = args[0].elts
        if name in SPREAD and len(args) == 1 and isinstance(args[0], ast.Attribute) \
                and args[0].attr == "shape":   # x.view(emb.shape): emb's sizes, one by one
            owner = args[0].value
            held = self.env.get(owner.id) if isinstance(owner, ast.Name) else None
            rank = len(held.shape) if isinstance(held, (Leaf, Node)) else 0
            args = [ast.Subscript(args[0], ast.Constant(i), ast.Load()) for i in range(rank)]
        keywords = []
        for keyword in node.keywords:
            if keyword.arg not in OP_KEYWORDS:
                raise Unsupported(f"the keyword {keyword.arg}= of {name}(): not in the "
                                  "language", node)
            value = keyword.value
            if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                keywords.append(ast.keyword(keyword.arg, ast.Constant(value.value)))
            else:
                keywords.append(ast.keyword(keyword.arg, visit(value)))
        return ast.Call(func, [visit(a) for a in args], keywords)

    def size_of(self, owner: ast.expr, index: ast.expr | None, deps: dict, node) -> ast.expr:
        """x.shape[i] (x.size(i)): the size, as the dim that holds it when one alone does."""
        held = self.env.get(owner.id) if isinstance(owner, ast.Name) else None
        if not isinstance(held, (Leaf, Node)) or (isinstance(held, Node) and held.dtype is None):
            raise Unsupported(f"{one(node)}: the size of something not a tensor the draft "
                              "follows", node)
        if not (isinstance(index, ast.Constant) and isinstance(index.value, int)
                and -len(held.shape) <= index.value < len(held.shape)):
            raise Unsupported(f"{one(node)}: a size needs an index within the tensor's "
                              f"{len(held.shape)} dimensions", node)
        size = held.shape[index.value]
        return self.size_written(size, deps)

    def size_written(self, size: int, deps: dict) -> ast.expr:
        dims = {id(d): d for d in self.env.values() if isinstance(d, Dim) and d.value == size}
        if len(dims) != 1:
            return ast.Constant(size)   # no dim holds it, or several do: the number itself
        dim = next(iter(dims.values()))
        deps.update(dim.base_dims())
        return copy.deepcopy(dim.written())


def tensor_form(tree: ast.expr) -> bool:
    """Whether a rebuilt expression uses a form of the tensor language (the scalar forms are
    written in the language's own spelling, sin(y); these as the tutorial wrote them)."""
    return any(isinstance(n, (ast.Attribute, ast.Subscript))
               or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult))
               or (isinstance(n, ast.Call) and n.keywords) for n in ast.walk(tree))


def dims_in(deps: dict) -> dict[str, int]:
    return {name: d.value for name, d in deps.items() if isinstance(d, Dim)}


def kind(translated: Translated) -> Kind:
    """What the expression gives, by main's rules: its shape, and whether it holds integers."""
    kinds = {name: Kind(tuple(held.shape), held.dtype == "int64")
             for name, held in translated.deps.items()
             if isinstance(held, Leaf) or (isinstance(held, Node) and held.dtype)}
    dims = dims_in(translated.deps)

    def fail(message: str) -> Exception:
        return Unsupported(f"the shapes do not fit: {message}")
    try:
        expr = bind(declared(parse(translated.text), set(kinds) | set(dims)), dims)
    except CaseError as exc:
        raise Unsupported(f"the expression language refuses it: {exc.message}") from None
    found = kind_of(expr, kinds, dims, fail)
    if math.prod(found.shape) > MAX_ELEMENTS:
        raise Unsupported(f"its value would have {math.prod(found.shape):,} elements; a case "
                          f"holds at most {MAX_ELEMENTS:,} in one value")
    return found
