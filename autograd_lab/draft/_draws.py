"""Tensors a notebook draws or fills: torch.randn, torch.randint, torch.zeros, torch.ones.

A draw is said the way a case says it, `{randn: [shape], seed: s, scale: c}`: the numbers of
`torch.randn(shape, generator=torch.Generator().manual_seed(s)) * c`. That is the notebook's
draw only when it is the first from a freshly seeded generator (or from torch's own, right
after torch.manual_seed(s)). A tutorial that draws several tensors from one generator gets
other numbers for the second and later ones, which a case cannot say; the draft then draws
from a fresh generator instead, says so, and claims no number that depends on it. Nothing is
drawn here: a draw is only described, its size bounded, and the loader draws it."""
from __future__ import annotations

import ast
import math
import re

from ..case import constant_value, parse
from ..errors import CaseError
from ..reading import MAX_ELEMENTS as MAX_DRAWN
from ._held import Dim, Drawn, Generator, Translated, Unsupported, Where, one
from ._ranges import RANGES, ranged
from ._sizes import counted, stand_in
from ._translate import Made, flag

DRAWS = {"torch.randn": "randn", "torch.randint": "randint", "torch.rand": "rand"}
# torch.rand's uniform numbers, which a case cannot draw: a normal draw stands in, mostly in
# [0, 1) as they are (a stand-in: its formulas are checked, its numbers are not claimed)
UNIFORM = (0.25, 0.5)   # scale, shift
UNIFORM_WHY = ("drawn by torch.rand from [0, 1) (its stand-in a normal draw times 0.25 plus "
               "0.5, mostly in that range)")
FILLS = {"torch.zeros": 0.0, "torch.ones": 1.0}
MAX_FILLED = 10_000     # a fill is written out as a list: as many as a tensor literal holds
INT64 = 2**63
# calls that draw from a generator: a statement left out with one of them in it leaves
# torch's global generator in a state the draft does not know
RANDOM = {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
          "multinomial", "normal", "normal_", "uniform_", "bernoulli", "dropout", "Linear",
          "Embedding", "kaiming_normal_", "kaiming_uniform_", "xavier_normal_",
          "xavier_uniform_"}


class Draws:
    """The notebook's generators, and the inputs drawn from them or filled."""

    def __init__(self, translator, env: dict):
        self.translator, self.env = translator, env
        self.global_ = Generator("", None, None)

    # --- generators --------------------------------------------------------------------------

    def generator(self, name: str, node: ast.expr, where: Where) -> Generator | None:
        """g = torch.Generator().manual_seed(s), or torch.Generator(); else None."""
        seed = None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "manual_seed" and self._fresh(node.func.value)):
            seed = self._seed(node)
        elif not self._fresh(node):
            return None
        return Generator(name, seed, where)

    def reseed(self, call: ast.Call, where: Where) -> bool:
        """torch.manual_seed(s) or g.manual_seed(s) as a statement; whether call is one."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "manual_seed"):
            return False
        if self.translator.dotted(func) == "torch.manual_seed":
            self.global_ = Generator("", self._seed(call), where)
            return True
        held = self.env.get(func.value.id) if isinstance(func.value, ast.Name) else None
        if isinstance(held, Generator):
            self.env[held.name] = Generator(held.name, self._seed(call), where)
            return True
        return False

    def lose(self, statement: ast.stmt, where: Where) -> None:
        """A statement left out: the generators it may have drawn from are in a state the
        draft no longer knows."""
        for node in ast.walk(statement):
            held = self.env.get(node.id) if isinstance(node, ast.Name) else None
            if isinstance(held, Generator) and held.lost is None:
                held.lost = where
            if isinstance(node, ast.Call) and self.global_.lost is None:
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in RANDOM and not any(k.arg == "generator" for k in node.keywords):
                    self.global_.lost = where

    def _fresh(self, node) -> bool:
        return (isinstance(node, ast.Call) and self.translator.dotted(node.func)
                == "torch.Generator" and not node.args
                and all(k.arg == "device" for k in node.keywords))

    def _seed(self, call: ast.Call) -> int:
        arg = call.args[0] if len(call.args) == 1 and not call.keywords else None
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, int)
                and not isinstance(arg.value, bool) and 0 <= arg.value < INT64):
            raise Unsupported(f"{one(call)}: a seed the case format takes is a whole number "
                              "from 0 to 2**63 - 1, written in the cell", call)
        return arg.value

    # --- draws and fills ---------------------------------------------------------------------

    def made(self, node: ast.expr, where: Where):
        """The input a draw or fill makes (Made), or None when node is neither."""
        grad_after = None
        while (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "requires_grad_" and not node.keywords
               and len(node.args) <= 1 and _drawn(node.func.value, self.translator)):
            grad_after = flag(node.args[0]) if node.args else True
            node = node.func.value
        shift = None    # torch.randn((1, n_hidden))*0.1 + 1.0: a draw, scaled, shifted
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) \
                and _drawn(node.left, self.translator) \
                and not _drawn(node.right, self.translator):
            shift = (node.op, node.right)
            node = node.left
        factors: list[tuple[ast.operator, ast.expr]] = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
            if _drawn(node.left, self.translator) and not _drawn(node.right, self.translator):
                factors.append((node.op, node.right))
                node = node.left
            elif isinstance(node.op, ast.Mult) and _drawn(node.right, self.translator) \
                    and not _drawn(node.left, self.translator):
                factors.append((node.op, node.left))
                node = node.right
            else:
                break
        spelled = self.translator.dotted(node.func) if isinstance(node, ast.Call) else None
        if spelled in RANGES and isinstance(node, ast.Call) and not factors and shift is None \
                and grad_after is None:
            return ranged(node, self.translator, self.number)   # torch.linspace(-2, 2, 5)
        if spelled not in DRAWS and spelled not in FILLS:
            return None
        assert isinstance(node, ast.Call)
        made = (self._draw(node, DRAWS[spelled], where) if spelled in DRAWS
                else self._fill(node, FILLS[spelled]))
        if factors:
            made = self._scaled(made, factors, node)
        if shift is not None:
            made = self._shifted(made, *shift, node)
        if grad_after is not None:
            made.grad = grad_after
        if made.grad and made.dtype == "int64":
            raise Unsupported("an integer tensor cannot require grad", node)
        return made

    def _draw(self, call: ast.Call, kind: str, where: Where):
        keywords = self._keywords(call, ("generator", "requires_grad", "dtype", "device"))
        if kind == "randint":
            if "requires_grad" in keywords:
                raise Unsupported("an integer tensor cannot require grad", call)
            if len(call.args) not in (2, 3):
                raise Unsupported(f"{one(call)}: torch.randint(low, high, size) or "
                                  "torch.randint(high, size)", call)
            bounds = [self._bound(a, where) for a in call.args[:-1]]
            low, high = bounds if len(bounds) == 2 else [("0", 0, {})] + bounds
            if not (-INT64 <= low[1] < high[1] <= INT64):
                raise Unsupported(f"torch.randint's range [{low[0]}, {high[0]}) must hold a "
                                  "value and fit int64", call)
            shape_args = [call.args[-1]]
        else:
            low = high = ("", 0, {})
            shape_args = call.args
        uniform = kind == "rand"
        kind = "randn" if uniform else kind
        shape = self.shape(shape_args, call, MAX_DRAWN, "a draw")
        dtype = self._dtype(keywords, kind, call)
        seed, stand_in = self._from(keywords.get("generator"), call, where)
        stand_in = UNIFORM_WHY if uniform else stand_in
        dims = {**low[2], **high[2], **{n: d for _, _, ds in shape for n, d in ds.items()}}
        sized = next((d.standing_in for d in dims.values() if d.standing_in), "")
        stand_in = stand_in or (f"drawn at a size that stands in ({sized})" if sized else "")
        scale, shift = UNIFORM if uniform else (None, None)
        value = Drawn(kind, tuple(text for text, _, _ in shape), seed, scale,
                      bounds=(low[0], high[0]) if kind == "randint" else ("", ""),
                      stand_in=stand_in, shift=shift)
        return Made(value, dtype, flag(keywords["requires_grad"]) if "requires_grad" in keywords
                    else False, tuple(n for _, n, _ in shape), dims)

    def _fill(self, call: ast.Call, fill: float):
        keywords = self._keywords(call, ("requires_grad", "dtype", "device"))
        shape = self.shape(call.args, call, MAX_FILLED, "a fill written out")
        dtype = self._dtype(keywords, "fill", call)
        value: object = fill
        for _, n, _ in reversed(shape):
            value = [value] * n
        grad = flag(keywords["requires_grad"]) if "requires_grad" in keywords else False
        return Made(value, dtype, grad, tuple(n for _, n, _ in shape))

    def _scaled(self, made, factors, call):
        if not isinstance(made.value, Drawn) or made.value.kind != "randn":
            raise Unsupported(f"{one(call)} scaled: the case format scales a randn draw only",
                              call)
        if made.grad:
            raise Unsupported("a draw that requires grad, then scaled, is not a leaf: its .grad "
                              "stays None (write .requires_grad_() after the scale)", call)
        scale, dims = 1.0, dict(made.dims)
        for op, factor in reversed(factors):
            _, value, used = self.number(factor)
            if value == 0 and isinstance(op, ast.Div):
                raise Unsupported(f"{one(factor)}: a scale divided by zero", factor)
            scale = scale * value if isinstance(op, ast.Mult) else scale / value
            dims.update(used)
        if not math.isfinite(scale):
            raise Unsupported(f"{one(call)}: the scale is not a finite number", call)
        rounded = "" if len(factors) == 1 and isinstance(factors[0][0], ast.Mult) else (
            f"the notebook scales in {len(factors)} float32 step"
            f"{'s' * (len(factors) > 1)}, the case multiplies once by {scale!r}: the last bit "
            "of an element may differ")
        drawn: Drawn = made.value
        made.value = Drawn(drawn.kind, drawn.shape, drawn.seed, scale, drawn.bounds,
                           drawn.stand_in, rounded)
        made.dims = dims
        return made

    def _shifted(self, made, op: ast.operator, by: ast.expr, call):
        if not isinstance(made.value, Drawn) or made.value.kind != "randn" or made.grad:
            raise Unsupported(f"{one(call)} shifted: the case format shifts a randn draw "
                              "that does not require grad", call)
        _, value, used = self.number(by)
        drawn: Drawn = made.value
        made.value = Drawn(drawn.kind, drawn.shape, drawn.seed, drawn.scale, drawn.bounds,
                           drawn.stand_in, drawn.rounded,
                           value if isinstance(op, ast.Add) else -value)
        made.dims = {**made.dims, **used}
        return made

    def _from(self, given: ast.expr | None, call: ast.Call, where: Where) -> tuple[int, str]:
        """The seed a case draws with, and why it is not the notebook's draw ('' when it is)."""
        made_here = self.generator("", given, where) if given is not None else None
        if given is None:
            generator, label = self.global_, "torch's global generator"
        elif made_here is not None:
            generator, label = made_here, "the generator made here"
        elif isinstance(given, ast.Name) and isinstance(self.env.get(given.id), Generator):
            generator, label = self.env[given.id], given.id
        else:
            raise Unsupported(f"generator={one(given)}: not a generator the draft follows", call)
        before = len(generator.draws)
        generator.draws.append(where)
        if generator.seed is None:
            return before % INT64, f"drawn from {label}, never seeded (torch.manual_seed)"
        seed = (generator.seed + before) % INT64
        if generator.lost is not None:
            return seed, (f"drawn from {label} after a statement that uses it was left out "
                          f"({generator.lost})")
        if before:
            return seed, (f"the {_ordinal(before + 1)} draw from {label} (seeded "
                          f"{generator.seed}, {generator.where})")
        return seed, ""

    # --- sizes -------------------------------------------------------------------------------

    def _bound(self, node: ast.expr, where: Where) -> tuple[str, int, dict]:
        """A randint bound; one the notebook counts from data (Xtr.shape[0], len(words))
        stands in, a dim named after what it counts."""
        try:
            return self.size(node, least=None)
        except Unsupported as exc:
            if not counted(node):
                raise
            name = re.sub(r"\W+", "_", ast.unparse(node)).strip("_")
            held = self.env.get(name)
            if not isinstance(held, Dim):
                taken = {d.value for d in self.env.values() if isinstance(d, Dim)}
                held = stand_in(name, f"{one(node, 40)} is not known without running the "
                                f"notebook ({exc.message})", where, taken, 1)
                self.env[name] = held
            return name, held.value, {name: held}

    def shape(self, args: list, call, most: int, what: str) -> list:
        if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
            args = args[0].elts
        if not args:
            raise Unsupported(f"{one(call)}: a shape of no sizes", call)
        shape = [self.size(a) for a in args]
        total = math.prod(n for _, n, _ in shape)
        if total > most:
            raise Unsupported(f"{what} of {total:,} elements; at most {most:,} are written "
                              "in a case", call)
        return shape

    def size(self, node: ast.expr, least: int | None = 1) -> tuple[str, int, dict]:
        """One size as the case writes it (digits, or dims and their products), its value,
        and the dims it uses."""
        text, value, dims = self.number(node)
        if not float(value).is_integer() or (least is not None and value < least):
            raise Unsupported(f"{one(node)}: a size must be a whole number"
                              f"{' of at least 1' if least else ''}", node)
        return text, int(value), dims

    def number(self, node: ast.expr) -> tuple[str, float, dict]:
        translated: Translated = self.translator.expression(node)
        dims = translated.deps
        if any(not isinstance(d, Dim) for d in dims.values()):
            raise Unsupported(f"{one(node)}: a size or scale made of tensors", node)
        try:
            value = constant_value(parse(translated.text), {n: d.value for n, d in dims.items()})
        except (CaseError, ValueError, OverflowError, ZeroDivisionError):
            raise Unsupported(f"{one(node)}: not a number the draft can read", node) from None
        if not isinstance(value, float) or not math.isfinite(value):
            raise Unsupported(f"{one(node)}: not a finite number", node)
        text = ast.unparse(translated.tree)
        return text.replace(" ", ""), value, dims

    def _keywords(self, call: ast.Call, allowed: tuple) -> dict:
        out = {}
        for keyword in call.keywords:
            if keyword.arg not in allowed:
                raise Unsupported(f"the keyword {keyword.arg}= of {one(call.func)}()", call)
            if keyword.arg == "device":
                if not (isinstance(keyword.value, ast.Constant) and keyword.value.value == "cpu"):
                    raise Unsupported(f"device={one(keyword.value)}: the draft reads CPU tensors",
                                      call)
                continue
            out[keyword.arg] = keyword.value
        return out

    def _dtype(self, keywords: dict, kind: str, call) -> str:
        default = "int64" if kind == "randint" else "float32"
        given = keywords.get("dtype")
        if given is None:
            return default
        spelled = self.translator.dotted(given) or one(given)
        named = {"torch.float32": "float32", "torch.float": "float32",
                 "torch.float64": "float64", "torch.double": "float64",
                 "torch.int64": "int64", "torch.long": "int64"}.get(spelled)
        if named == default or (kind == "fill" and named in ("float32", "float64")):
            return named
        raise Unsupported(f"dtype={spelled} for {one(call.func)}(): the case format draws "
                          "randn in float32 and randint in int64", call)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _drawn(node: ast.expr, translator) -> bool:
    return any(isinstance(n, ast.Call) and translator.dotted(n.func) in (*DRAWS, *FILLS)
               for n in ast.walk(node))
