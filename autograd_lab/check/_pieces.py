"""Which statement of an entry is wrong, for an entry a block builds in several
(`dcounts = counts_sum_inv * dprobs`, then `dcounts += torch.ones_like(counts) * dcounts_sum`).

A name's gradient is a sum over its uses: counts is used by probs and by counts_sum, and
dL/dcounts is the gradient through probs plus the gradient through counts_sum. A tutorial
writes one statement a use (or a few uses), so each statement's own part of the entry (its
value minus the value before it) is compared with autograd's gradient through each use of
the target (in float64, at the point where the entry is furthest off):

- every statement is the gradient through some uses, and some use is left: the entry lacks
  a piece, and no statement adds the gradient through that use;
- every statement but one is the gradient through some uses: that one is wrong (changed to
  the gradient through the uses left, the entry is right; with none left, left out it is);
- otherwise (two statements wrong, a statement that scales the others, a use split over
  statements) which one is wrong cannot be told, and the message says so.

A diagnosis, never the verdict: the entry has failed against the reference already."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from ..case import BinOp, Case, Expr, Name, Piece, Put
from ..errors import CaseError
from ..methods import Pass, adjoints, evaluate
from . import _compare as compare

MAX_USES = 6        # uses of a target matched against the statements (2^6 sums of them)
MAX_PIECES = 8      # statements (lines) of one entry matched
MAX_WORK = 50_000_000   # elements summed and compared in matching them (a few seconds)


@dataclass
class Located:
    """What the pieces of a failed entry say: a finding, the statement it is about, words."""

    finding: str                 # "wrong", "extra", "missing" or "untold"
    piece: Piece                 # the wrong or extra statement; else the entry's last
    lines: list[int]             # every statement's line, once each, in order
    words: str                   # what the problem's message adds
    through: list[str] = field(default_factory=list)   # the uses it should add / none adds

    @property
    def place(self) -> tuple[int, int]:
        return self.piece.line, self.piece.column

    def subject(self, name: str, text: str) -> str:
        """What the message says differs: the statement, or the value several build."""
        if len(self.lines) < 2:
            return f"hand-written {text}"
        return f"hand-written {name}, as the statements at lines {_spans(self.lines)} build it,"

    def record(self) -> dict:
        """report.json's `piece` of the entry."""
        return {"finding": self.finding, "line": self.piece.line,
                "column": self.piece.column, "statement": self.piece.text,
                "lines": self.lines, "through": self.through}


@dataclass
class _Group:
    """The statements of one line and column (a loop's, unrolled, are one)."""

    piece: Piece                 # its first
    keys: list[str]
    part: np.ndarray = field(default_factory=lambda: np.zeros(()))   # what they add, together


def locate(case: Case, name: str, run: Pass, hand: dict, wrong: set,
           scale: float) -> Located | None:
    """The finding for a failed entry whose own formula is wrong (hand: the entries' values
    in float64 at the point run is; wrong: the entries found wrong so far). None for an entry
    of one statement that lacks nothing; untold where the parts cannot be taken apart."""
    entry = case.backward[name]
    groups = _groups(entry.pieces)
    untold = _untold(groups, "") if len(groups) > 1 else None
    if not groups or entry.target == case.output or len(groups) > MAX_PIECES:
        return untold
    shape = np.shape(run.grads[entry.target])
    given = {u: run.grads[case.backward[u].target] for u in entry.uses if u in wrong}
    if given:   # a d-name it uses is wrong too: its parts are taken with that one right
        hand = adjoints(case, run.values, "float64", given=given)
    if not _parts(entry.pieces, groups, hand, shape):
        return untold
    uses = _uses(case, entry.target, run)
    subsets = _subsets(list(uses or ()), len(groups), int(np.prod(shape)))
    if not uses or subsets is None:   # nothing to take it apart by, or too much work
        return untold
    rtol, atol = compare.tolerance("float64", case.tolerance)
    fits = [[s for s in subsets
             if compare.gap(g.part, _sum(uses, s, shape), rtol, atol, scale).ok]
            for g in groups]
    found = _found(case, entry, groups, fits, frozenset(uses))
    if found is None or isinstance(found, Located):
        return found
    j, rest = found
    if rest is None:
        return _wrong(case, groups, j, [], None, rtol, atol, scale)
    through = [u for u in uses if u in rest]
    return _wrong(case, groups, j, through, _sum(uses, rest, shape), rtol, atol, scale)


def _found(case: Case, entry, groups: list[_Group], fits: list,
           everything: frozenset) -> Located | tuple[int, frozenset | None] | None:
    """From the uses each group's part can stand for: the missing uses, the one wrong group
    (its index and the uses it should stand for), untold, or None (one statement, nothing
    lacking: the message as for any entry)."""
    left = {everything - c for c in _covers(fits, range(len(groups)))}
    if len(left) == 1 and frozenset() not in left:   # each statement a use's; one lacks
        return _missing(case, groups, everything, next(iter(left)))
    if len(groups) < 2:
        return None
    if left:     # every statement a use's, right here or in more ways than one: untold
        return _untold(groups, entry.target)
    suspects = {}
    for j in range(len(groups)):
        others = [i for i in range(len(groups)) if i != j]
        rest = {everything - c for c in _covers(fits, others)}
        if rest and _additive_after(case, entry, groups, j):
            suspects[j] = rest
    if len(suspects) != 1:
        return _untold(groups, entry.target, tuple(sorted(suspects)))
    (j, rest), = suspects.items()
    # changed, it makes the entry right; to the gradient through which uses, where one way
    return j, next(iter(rest)) if len(rest) == 1 else None


def _subsets(names: list[str], groups: int, size: int) -> list[frozenset] | None:
    """The sets of uses a group's part is compared with: every one, or where that is too
    much work for the entry's size, none and each use alone; None past even that."""
    every = [frozenset(s) for k in range(len(names) + 1)
             for s in itertools.combinations(names, k)]
    if len(names) <= MAX_USES and groups * len(every) * size <= MAX_WORK:
        return every
    few = [s for s in every if len(s) <= 1]
    return few if groups * len(few) * size <= MAX_WORK else None


def _sum(uses: dict, which, shape: tuple) -> np.ndarray:
    total = np.zeros(shape)
    for u in which:
        total = total + uses[u]
    return total


# --- the statements -----------------------------------------------------------------------

def _groups(pieces: tuple[Piece, ...]) -> list[_Group]:
    groups: dict[tuple, _Group] = {}
    for p in pieces:
        group = groups.setdefault((p.line, p.column), _Group(p, []))
        group.keys.append(p.key)
    return list(groups.values())


def _parts(pieces: tuple[Piece, ...], groups: list[_Group], hand: dict, shape: tuple) -> bool:
    """Each group's part: the sum of its statements' steps (a value minus the one before);
    the parts sum to the entry. False where a value is missing or of another shape."""
    group_of = {k: g for g in groups for k in g.keys}
    before = np.zeros(shape)
    for g in groups:
        g.part = np.zeros(shape)   # the parts sum to the entry
    for piece in pieces:
        value = hand.get(piece.key)
        if value is None:
            return False
        value = np.asarray(value, dtype=float)
        if value.shape != shape:
            if value.size != int(np.prod(shape)):
                return False
            value = value.reshape(shape)
        group = group_of[piece.key]
        group.part = group.part + (value - before)
        before = value
    return True


def _additive_after(case: Case, entry, groups: list[_Group], j: int) -> bool:
    """Whether the statements of the other groups that run after group j's first add to the
    value (x += ..., x[i] += ...) without reading it otherwise: then changing group j's part
    changes the entry by that much, and no other statement's part with it."""
    mine = set(groups[j].keys)
    keys = [p.key for p in entry.pieces]
    start = keys.index(groups[j].keys[0])
    for previous, key in zip(keys[start:], keys[start + 1:]):
        if key in mine:
            continue
        expr = (case.backward[key].expr if key in case.backward else None)
        if expr is None or not _adds(expr, previous):
            return False
    return True


def _adds(expr: Expr, previous: str) -> bool:
    if isinstance(expr, BinOp) and expr.op in ("+", "-") and expr.left == Name(previous):
        return previous not in expr.right.names()
    if isinstance(expr, Put) and expr.op in ("+", "-") and expr.target.value == Name(previous):
        return previous not in expr.value.names() and not any(
            previous in i.names() for i in expr.target.index)
    return False


def _covers(fits: list[list[frozenset]], which) -> set[frozenset]:
    """Every union of the uses that the groups in `which` can stand for, no use twice."""
    unions: set[frozenset] = {frozenset()}
    for i in which:
        unions = {u | f for u in unions for f in fits[i] if not u & f}
        if not unions:
            return set()
    return unions


# --- the uses of the target ---------------------------------------------------------------

def _uses(case: Case, target: str, run: Pass) -> dict[str, np.ndarray] | None:
    """Each forward node that uses target -> autograd's gradient through that use alone (the
    node's gradient pulled back to target through the node's own expression), in float64.
    Uses with nothing to pull back (a zero gradient) are left out: no statement need add them.
    None where a use cannot be taken alone: then no statement can be judged by the uses."""
    out: dict[str, np.ndarray] = {}
    leaf = run.values[target].detach().clone().requires_grad_()
    for node_name, node in case.nodes.items():
        if target not in node.expr.names() or node_name not in run.grads:
            continue
        env = dict(run.values, **{target: leaf})
        try:
            with torch.enable_grad():
                value = evaluate(node.expr, env, batched=False, dtype=torch.float64)
                if not (isinstance(value, torch.Tensor) and value.requires_grad):
                    continue
                upstream = torch.as_tensor(run.grads[node_name], dtype=value.dtype)
                (grad,) = torch.autograd.grad(value, leaf, upstream.reshape(value.shape),
                                              allow_unused=True)
        except (CaseError, RuntimeError, ValueError, TypeError):
            return None
        if grad is not None and bool(grad.any()):
            out[node_name] = grad.detach().numpy()
    return out


def _use(case: Case, node: str) -> str:
    """A use as a message names it: `counts_sum = counts.sum(1, keepdims=True)` (line 41)."""
    base = node.partition("#")[0]
    text = case.nodes[node].text
    statement = text if re.match(rf"{re.escape(base)}\s*(\[|[-+*/]?=)", text) else \
        f"{base} = {text}"
    line = case.line_of("forward", node)
    return f"`{statement}`" + (f" (line {line})" if line else "")


def _uses_text(case: Case, nodes: list[str]) -> str:
    return " and ".join(_use(case, n) for n in nodes)


# --- the findings -------------------------------------------------------------------------

def _lines(groups: list[_Group]) -> list[int]:
    return list(dict.fromkeys(g.piece.line for g in groups))


def _spans(lines: list[int]) -> str:
    return ", ".join(map(str, lines))


def _right(lines: list[int]) -> str:
    """line 64 is right; lines 64, 70 are right."""
    if not lines:
        return "the other statements of its line are right"
    return f"line {lines[0]} is right" if len(lines) == 1 else f"lines {_spans(lines)} are right"


def _untold(groups: list[_Group], target: str, suspects: tuple[int, ...] = ()) -> Located:
    lines = _lines(groups)
    if len(suspects) > 1:
        why = (f": any one of lines {_spans([groups[j].piece.line for j in suspects])}, "
               "changed alone, would make it right")
    elif target:
        why = (f": their parts, beside the gradient through each use of {target}, single "
               "out none of them")
    else:
        why = ""
    return Located("untold", groups[-1].piece, lines,
                   f"; which of the statements at lines {_spans(lines)} is wrong cannot be "
                   f"told{why}; this is the last")


def _missing(case: Case, groups: list[_Group], everything: frozenset,
             lacking: frozenset) -> Located:
    lines = _lines(groups)
    gives = [u for u in case.nodes if u in everything - lacking]
    lacking_list = [u for u in case.nodes if u in lacking]
    if len(groups) == 1:
        what = ("what it gives is the gradient through " + _uses_text(case, gives) + " alone"
                if gives else "what it gives is none of the gradient")
    else:
        what = (f"the statements at lines {_spans(lines)} give the gradient through "
                + _uses_text(case, gives) if gives else
                f"the statements at lines {_spans(lines)} give none of the gradient")
    words = (f"; it lacks a piece: {what}, and no statement adds the gradient through "
             f"{_uses_text(case, lacking_list)}")
    return Located("missing", groups[-1].piece, lines, words,
                   [u.partition("#")[0] for u in lacking_list])


def _wrong(case: Case, groups: list[_Group], j: int, through: list[str],
           should: np.ndarray | None, rtol: float, atol: float, scale: float) -> Located:
    lines = _lines(groups)
    piece = groups[j].piece
    others = [line for line in lines if line != piece.line]
    head = f"; the statement at line {piece.line}, `{piece.text}`, is the wrong one"
    if should is None:
        return Located("wrong", piece, lines, head + ": changed alone, it can make the "
                       f"entry right; {_right(others)}")
    part = groups[j].part
    if not through and j == 0:   # the first assigns the name: it cannot be left out
        return Located("wrong", piece, lines, head + ": what it gives should be zero (the "
                       f"rest already adds the gradient through every use; {_right(others)})")
    if not through:
        return Located("extra", piece, lines, head + ": left out, the entry is right (the "
                       f"rest already adds the gradient through every use; {_right(others)})")
    g = compare.gap(part, should, rtol, atol, scale)
    at = f" at element {list(map(int, g.index))}" if g.index else ""
    return Located("wrong", piece, lines,
                   head + f": what it adds should be the gradient through "
                   f"{_uses_text(case, through)}, and differs from it by {g.diff:.3g}{at} "
                   f"({g.a:.10g} vs {g.b:.10g}); {_right(others)}",
                   [u.partition("#")[0] for u in through])


__all__ = ["Located", "locate"]
