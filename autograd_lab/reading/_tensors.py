"""A tensor case resolved: dims, values of any rank, shapes by the table's rules, the
hand-written backward pass in adjoint form, and the upstream gradient of a tensor output."""
from __future__ import annotations

import difflib
import functools
import math

import numpy as np

from ..case import (
    Adjoint,
    Attr,
    BinOp,
    Call,
    Case,
    Const,
    Edge,
    Expr,
    Index,
    Kind,
    Node,
    Range,
    Slice,
    Stack,
    bind,
    kind_and_parts,
    walk,
)
from ..errors import CaseError
from ..ops import COMPARED, FLAGS, FUNCTIONS
from ._names import check_name, failing, parse_at, unknown_name
from ._schema import CaseModel, Linspace, Randint, Randn, Uniform
from ._values import MAX_ELEMENTS, array
from ._yaml import Source

# values a tensor case holds at one point: inputs, nodes and backward entries together
MAX_VALUES = 40_000_000


def uses_tensors(model: CaseModel, inputs: dict, trees: dict) -> bool:
    """Whether the case needs the tensor reading: anything the scalar lessons do not use."""
    if model.dims or model.backward is not None or model.upstream is not None:
        return True
    if any(i.integer or i.value.ndim > 1 for i in inputs.values()):
        return True
    if len({i.value.shape for i in inputs.values() if i.value.shape}) > 1:
        return True
    if any(tensor_form(tree) for tree, _ in trees.values()):
        return True
    others = {*model.forward, *(n for n, i in inputs.items() if not i.grad)}
    claims = [*model.expect.items(), *(c for p in model.points for c in p.expect.items())]
    return any(isinstance(value, str) or (str(key).startswith("grad/")
                                          and str(key)[5:] in others)   # a node's gradient
               for key, value in claims)


def tensor_form(tree: Expr) -> bool:
    """A form of the tensor language: @, a subscript, an attribute, a keyword, a tensor-only
    function, a stacked list."""
    for node in walk(tree):
        if isinstance(node, (Attr, Index, Stack, Slice, Range)):
            return True
        if (isinstance(node, BinOp) and node.op == "@") or (
                isinstance(node, BinOp) and node.op in COMPARED):   # a mask
            return True
        if isinstance(node, Call) and (node.keywords or not FUNCTIONS[node.func].scalar):
            return True
        if isinstance(node, Const) and node.name in FLAGS:
            return True
    return False


def stacked(value, path: tuple, where: Source) -> tuple[Expr, str]:
    """An expression, or a YAML list of them: the tensor stacked from them, one a row."""
    if not isinstance(value, list):
        return parse_at(value, path, where)
    if not value:
        raise where.error("a stacked list needs at least one expression", path)
    parts = [parse_at(item, path + (i,), where) for i, item in enumerate(value)]
    return Stack(tuple(tree for tree, _ in parts)), "[" + ", ".join(t for _, t in parts) + "]"


def dims_of(model: CaseModel, where: Source) -> dict[str, int]:
    for name, n in model.dims.items():
        check_name(name, ("dims", name), where)
        if not 1 <= n <= MAX_ELEMENTS:
            raise where.error(f"dim {name} must be a positive size, at most {MAX_ELEMENTS:,}, "
                              f"not {n:,}", ("dims", name))
    return dict(model.dims)


class Resolver:
    """Resolves a tensor case's graph: each name's kind (shape, integer or not) known before
    it is used, every problem a CaseError at its file:line:column."""

    def __init__(self, model: CaseModel, where: Source, dims: dict, inputs: dict):
        self.model, self.where, self.dims, self.inputs = model, where, dims, inputs
        self.kinds = {n: Kind(i.value.shape, i.integer) for n, i in inputs.items()}
        self.parts: dict[str, int] = {}   # node -> elements its expression's parts compute
        self.misshapen: dict[str, tuple] = {}   # gradient: entries of the wrong shape

    def kind(self, tree: Expr, path: tuple, text: str, kinds: dict | None = None) -> Kind:
        fail = failing(self.where, path, text)
        if isinstance(tree, Stack):   # its entries' offsets are in their own lines
            fail = functools.partial(_whole, fail)
        found, made = kind_and_parts(tree, self.kinds if kinds is None else kinds, self.dims,
                                     fail, MAX_ELEMENTS)
        if path[0] == "forward":   # beyond its own value, what the node's parts hold
            self.parts[path[1]] = max(0, made - math.prod(found.shape))
        if math.prod(found.shape) > MAX_ELEMENTS:
            raise fail(f"its value has {math.prod(found.shape):,} elements; at most "
                       f"{MAX_ELEMENTS:,} are allowed")
        return found

    def known(self, tree: Expr, names: set, path: tuple, text: str, order=("",), at=""):
        for used in sorted(tree.names() - names - set(self.dims)):
            shown = sorted(n for n in names if "#" not in n)   # a block's versions unsaid
            raise unknown_name(used, at, list(order), shown, self.where, path, tree, text)

    def nodes(self, trees: dict) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        order = list(trees)
        for name, (tree, text) in trees.items():
            path = ("forward", name)
            check_name(name, path, self.where)
            if name in self.inputs:
                raise self.where.error(f"the node {name!r} has the name of an input", path)
            tree = bind(tree, self.dims)
            self.known(tree, set(self.kinds), path, text, order, name)
            kind = self.kind(tree, path, text)
            self.kinds[name] = kind
            nodes[name] = Node(name, tree, text, kind.shape)
        if not nodes:
            raise self.where.error("forward must define at least one node", ("forward",))
        return nodes

    def output(self, nodes: dict) -> str:
        output = self.model.output or list(nodes)[-1]
        if output not in nodes:
            raise self.where.error(f"output {output!r} is not a node of forward", ("output",))
        kind = self.kinds[output]
        path = ("output",) if ("output",) in self.where.marks else ("forward", output)
        if kind.integer:
            raise self.where.error(f"the output {output!r} holds integers: there is no "
                                   "gradient of it to check", path)
        if math.prod(kind.shape) != 1 and self.model.upstream is None:
            raise self.where.error(
                f"the output {output!r} has shape {kind.shape}, not a scalar: reduce it "
                "with sum() or mean(), or give upstream: (the gradient handed to "
                f"{output}.backward(gradient=...))", path)
        return output

    def upstream(self, output: str):
        value, path = self.model.upstream, ("upstream",)
        if value is None:
            return None
        shape = self.kinds[output].shape
        if isinstance(value, str):
            tree, text = parse_at(value, path, self.where)
            tree = bind(tree, self.dims)
            self.known(tree, set(self.kinds), path, text)
            got = self.kind(tree, path, text).shape
            given: Expr | np.ndarray = tree
        else:
            given = array(value, path, self.where, self.dims)
            got = given.shape
        if got != shape and got != ():
            raise self.where.error(f"upstream has shape {got}; the output {output} has shape "
                                   f"{shape}", path)
        return given

    def backward(self, output: str) -> dict[str, Adjoint]:
        entries: dict[str, Adjoint] = {}
        kinds = dict(self.kinds)
        implicit = f"d{output}"
        kinds[implicit] = self.kinds[output]
        mapping = self.model.backward if isinstance(self.model.backward, dict) else {}
        for key, value in mapping.items():
            path = ("backward", key)
            target = str(key)[1:]
            if not str(key).startswith("d") or target not in self.kinds:
                raise self.where.error(self._not_a_name(str(key)), path)
            if self.kinds[target].integer:
                raise self.where.error(f"backward {key}: {target} holds integers, which have no "
                                       "gradient", path)
            tree, text = stacked(value, path, self.where)
            tree = bind(tree, self.dims)
            above = set(entries) | {implicit}
            used = sorted(n for n in tree.names() if n.startswith("d") and n not in self.kinds)
            for name in used:
                if name not in above:
                    why = ("defined below it: write the entries in backward order"
                           if name in (self.model.backward or {}) else "not an entry of backward")
                    raise self.where.error(f"backward {key} uses {name}, which is {why}", path)
            self.known(tree, set(kinds) | above, path, text)
            want = self.kinds[target].shape
            entries[key] = Adjoint(key, target, tree, text, [n for n in used if n != implicit],
                                   *self._misshapen(tree, path, text, want, kinds, above))
            kinds[key] = self.kinds[target]
        return entries

    def _misshapen(self, tree: Expr, path: tuple, text: str, want: tuple, kinds: dict,
                   above: set) -> tuple:
        """(why, (line, column)) where a hand-written gradient's shape is not its target's
        (a missing transpose: a product that cannot be taken, or one of the wrong shape),
        else ("", ()): such an entry is a wrong entry, not an unreadable case. Shapes that
        differ only by dimensions of size 1 are compared element by element."""
        try:
            got = self.kind(tree, path, text, {**kinds, **{n: kinds[n] for n in above}}).shape
        except CaseError as exc:
            if not exc.shapes:
                raise
            return (f"cannot be computed: {exc.message}; autograd's gradient has shape "
                    f"{_shown(want)}", (exc.line, exc.column))
        scalar_total = not got and path[0] == "gradient"   # stands for every element
        if got == want or _squeezed(got) == _squeezed(want) or scalar_total:
            return "", ()
        hint = ": a transpose?" if len(got) == 2 and got == want[::-1] else ""
        return (f"has shape {_shown(got)} where autograd's gradient has shape {_shown(want)}"
                f"{hint}", self.where.locate(path))

    def _not_a_name(self, key: str) -> str:
        names = [f"d{n}" for n, k in self.kinds.items() if not k.integer]
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
        hint = (f"; did you mean {close[0]}?" if close else
                f"; the entries it can have: {', '.join(names[:8])}")
        meaning = "the gradient of the output by the node or input <name>"
        if key.startswith("d"):
            return (f"backward {key}: {key[1:]!r} is not a node or an input of forward (an "
                    f"entry d<name> is {meaning}){hint}")
        return f"backward {key}: an entry is named d<name>, {meaning} (dlogits){hint}"

    def edges(self, nodes: dict) -> dict[str, Edge]:
        """chain_rule in a tensor case: local derivatives of element-wise nodes only."""
        edges = {}
        for key, text in (self.model.chain_rule or {}).items():
            path = ("chain_rule", key)
            node, _, parent = str(key).partition("/")
            if node not in nodes or parent not in nodes[node].expr.names():
                raise self.where.error(f"edge {key}: write edges as node/parent, a parent that "
                                       "appears in the node's expression", path)
            if tensor_form(nodes[node].expr):
                raise self.where.error(
                    f"edge {key}: {node} = {nodes[node].text} is not element by element, so "
                    f"no single local derivative exists; write its gradient in backward: "
                    f"(d{parent}: ...)", path)
            tree, text = parse_at(text, path, self.where)
            self.known(tree, set(self.kinds), path, text)
            self.kind(tree, path, text)
            edges[key] = Edge(node, parent, tree, text)
        return edges

    def gradients(self, nodes: dict) -> dict:
        out = {}
        for param, text in (self.model.gradient or {}).items():
            path = ("gradient", param)
            if param not in self.inputs or not self.inputs[param].grad:
                raise self.where.error(f"gradient {param}: {param!r} is not an input with "
                                       "grad: true", path)
            tree, text = parse_at(text, path, self.where)
            tree = bind(tree, self.dims)
            self.known(tree, set(self.kinds), path, text)
            want = self.inputs[param].value.shape
            why, place = self._misshapen(tree, path, text, want, self.kinds, set())
            if why:   # a wrong entry: checked as such, never evaluated
                self.misshapen[param] = (text, why, place)
            else:
                out[param] = (tree, text)
        return out

    def claim_expression(self, key: str, text: str, shape: tuple, path: tuple) -> Expr:
        tree, text = parse_at(text, path, self.where)
        tree = bind(tree, self.dims)
        self.known(tree, set(self.kinds), path, text)
        got = self.kind(tree, path, text).shape
        if got != shape and got != () and _squeezed(got) != _squeezed(shape):
            raise self.where.error(f"claim {key}: the expression has shape {got}, the value "
                                   f"claimed shape {shape}", path)
        return tree

    def check_size(self, nodes: dict, backward: dict, points: int) -> None:
        """Refuse a case whose values would not fit in memory: inputs, nodes, backward
        entries, and the parts each node's expression computes on the way (autograd keeps
        them for the backward pass), at every point."""
        parts = sum(self.parts.get(n, 0) for n in nodes)
        held = sum(math.prod(k.shape) for k in self.kinds.values()) + sum(
            math.prod(self.kinds[a.target].shape) for a in backward.values()
            if a.checked) + parts
        if held * points <= MAX_VALUES:
            return
        biggest = max(nodes, key=lambda n: self.parts.get(n, 0))
        if self.parts.get(biggest, 0) * points > MAX_VALUES // 2:   # one node's parts: name it
            raise self.where.error(
                f"{biggest} = {nodes[biggest].text} computes {self.parts[biggest]:,} values on "
                f"the way to its own (the parts of its expression, which autograd keeps for "
                f"the backward pass); with the case's other values, {held * points:,} in all "
                f"at {points:,} point(s), and at most {MAX_VALUES:,} fit in memory: use fewer "
                "operations or fewer elements", ("forward", biggest))
        raise self.where.error(f"the case holds {held * points:,} values (inputs, nodes, the "
                               f"parts of their expressions and backward entries x {points:,} "
                               f"points); at most {MAX_VALUES:,} fit in memory", ("forward",))


def _whole(fail, message: str, col: int | None = None):
    return fail(message)


def squeezed(shape: tuple) -> tuple:
    """A shape without its dimensions of size 1: (64,) and (1, 64) compare element-wise."""
    return tuple(n for n in shape if n != 1)


_squeezed = squeezed


def at_dims(resolve, model: CaseModel, where: Source, default_name: str):
    """The case read again at other dims (SymPy's reduced sizes), its generated inputs drawn
    again at the new shapes; a case that cannot be read so says why."""
    return functools.partial(_again, resolve, model, where, default_name)


def _again(resolve, model, where, default_name, dims: dict, sizes: dict | None = None) -> Case:
    """sizes, where given: {a length: the length it is cut to}, for the inputs that keep
    their sizes at other dims (listed values, shapes written in numbers): each of their axes
    of a length in sizes is cut to its leading elements (see cut)."""
    if sizes is not None:
        return resolve(cut(model, sizes), where, default_name, dims)
    try:
        return resolve(model, where, default_name, dims)
    except CaseError as exc:
        fixed = _fixed(model, where)
        if fixed is None:
            raise CaseError(f"{exc.message}. Draw every input whose size is a dim from the "
                            "dims ({randn: [n, k], seed: 1}, {randint: [0, v], shape: [n]}) "
                            "instead of listing it, and write sizes in expressions as dims",
                            exc.file, exc.line, exc.column) from None
        name, size, dim = fixed
        spec = model.inputs[name]
        integer = getattr(spec, "dtype", None) == "int64" or isinstance(
            getattr(spec, "value", None), Randint)
        draw = (f"{{randint: [lo, hi], shape: [{dim}], seed: 1}}" if integer
                else f"{{randn: [{dim}], seed: 1}}")
        how, fix = (("listed", f"draw {name} from the dims ({draw})") if _listed(spec) else
                    ("drawn at a shape written in numbers", f"write {name}'s shape with the "
                     f"dim ([{dim}])"))
        raise where.error(
            f"the input {name} keeps its size {size} (the dim {dim}) because it is {how}, so "
            f"{exc.message}. To check it, {fix} so that it is drawn again at each size, or "
            "make the case small enough for SymPy at its own sizes", ("inputs", name)) from None


def _listed(spec) -> bool:
    value = getattr(spec, "value", spec)
    return not isinstance(value, (Randn, Randint, Uniform, Linspace))


def _fixed(model: CaseModel, where: Source) -> tuple[str, int, str] | None:
    """The first input whose size is a dim's but is not written with the dim (a listed value,
    or a shape of numbers): at other dims it keeps its size, so the case cannot be read
    there. (its name, the size, the dim)"""
    sizes = {n: name for name, n in model.dims.items()}
    for name, spec in model.inputs.items():
        value = getattr(spec, "value", spec)
        written = getattr(value, "shape", None) or getattr(value, "randn", None)
        shape: tuple[int, ...]
        if _listed(spec):
            shape = np.shape(value) if isinstance(value, list) else ()
        elif isinstance(value, Linspace):
            shape = (value.linspace[2],)
        else:
            shape = tuple(n for n in written or () if isinstance(n, int))
        for n in shape:
            if n in sizes:
                return str(name), n, sizes[n]
    return None


def cut(model: CaseModel, sizes: dict) -> CaseModel:
    """The model with each input that has no dims cut to smaller sizes: every axis of a length
    in sizes cut to that many leading elements (a listed value sub-selected, a shape written
    in numbers drawn at the smaller shape), the same length everywhere cut the same, so that
    shapes that met still meet. An integer input's values (labels, indices) are taken modulo
    the length they index, the smallest length above all of them, where it is cut. A listed
    upstream gradient is cut as the inputs are."""
    update: dict = {"inputs": {name: _cut_input(spec, sizes)
                               for name, spec in model.inputs.items()}}
    if isinstance(model.upstream, (list, Randn)):   # a listed or drawn upstream gradient
        update["upstream"] = _cut_input(model.upstream, sizes)
    return model.model_copy(update=update)


def _cut_input(spec, sizes: dict):
    value = getattr(spec, "value", spec)
    integer = getattr(spec, "dtype", None) == "int64"
    if isinstance(value, list):
        values = np.asarray(value)
        values = values[tuple(slice(0, sizes.get(n, n)) for n in values.shape)]
        value = (_wrapped(values, sizes) if integer else values).tolist()
    elif isinstance(value, Randn):
        value = value.model_copy(update={"randn": _cut_shape(value.randn, sizes)})
    elif isinstance(value, Uniform):
        value = value.model_copy(update={"shape": _cut_shape(value.shape, sizes)})
    elif isinstance(value, Randint):
        lo, hi = value.randint
        if isinstance(lo, int) and isinstance(hi, int):   # classes: below the new count
            hi = max(sizes.get(hi, hi), lo + 1)
        value = value.model_copy(update={"shape": _cut_shape(value.shape, sizes),
                                         "randint": (lo, hi)})
    elif isinstance(value, Linspace):
        start, stop, n = value.linspace
        value = value.model_copy(update={"linspace": (start, stop, sizes.get(n, n))})
    return spec.model_copy(update={"value": value}) if hasattr(spec, "value") else value


def _cut_shape(shape: list, sizes: dict) -> list:
    return [sizes.get(n, n) if isinstance(n, int) else n for n in shape]


def _wrapped(values: np.ndarray, sizes: dict) -> np.ndarray:
    if not values.size or values.min() < 0:
        return values
    above = [n for n in sizes if n > values.max()]
    if not above:
        return values
    indexed = min(above)
    return values % sizes[indexed]



def _shown(shape: tuple) -> str:
    return str(tuple(shape)) if shape else "a scalar"
