"""A case draft written as YAML text, a comment at each entry naming the cell it came from.

The text is written here, line by line, so that numbers keep the digits printed (6.7000 stays
6.7000) and every entry can carry its comment; each scalar is written plain only where YAML
reads it back as the same value, else quoted as JSON (which YAML reads)."""
from __future__ import annotations

import difflib
import json
import os
import re
import textwrap
from pathlib import Path

import yaml

from ._entries import Digits, Draft, Entry, Line, Point, StepOut
from ._text import one_line

COMMENT_AT = 38          # the column comments start at, where the entry is shorter
WIDTH = 96               # header comments are wrapped to this width
# the step actions of a behaviour case: a node named close to one is written under compute:
ACTIONS = ("compute", "backward", "zero_grad", "no_grad", "detach", "requires_grad",
           "retain_grad", "expect")
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ +\-*/().,]*|-[A-Za-z0-9_(.][A-Za-z0-9_ +\-*/().,]*")


def file_name(draft: Draft) -> str:
    """NAME.yaml, or NAME.yaml.todo for a draft with chain_rule edges still to write (not a
    case until they are written, so that checking a folder of drafts does not stop on it)."""
    return draft.name + (".yaml.todo" if draft.to_write else ".yaml")


ORIGIN = re.compile(r"^((?:In \[[^\]]*\]|cell \d+), line \d+)")
ORIGIN_PARTS = re.compile(r"^((?:In \[[^\]]*\]|cell \d+)), line (\d+)")


def write(draft: Draft, folder: Path, notebook: str, extra: tuple[str, ...] = (),
          force: bool = False, block: bool | frozenset[str] = False) -> Path:
    """The draft written as a new file, never through a link (O_NOFOLLOW, O_EXCL): with
    force, what is in the way (a file, a link) is removed first, not written through."""
    path = Path(folder) / file_name(draft)
    if force and (path.is_symlink() or path.is_file()):
        path.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags, 0o666), "w", encoding="utf-8") as f:
        f.write(text(draft, notebook, extra, block))
    return path


def origins(written: str) -> dict[int, str]:
    """YAML line (1-based) -> the notebook cell and line its entry came from, read back from
    the comments: a report about a drafted case can then name the cell, not the draft's line."""
    out = {}
    for number, line in enumerate(written.split("\n"), 1):
        if line.lstrip().startswith("#"):
            continue
        # the first comment, or the last: a block's line may hold the notebook's own comment
        for _, hash_, comment in (line.partition("  # "), line.rpartition("  # ")):
            found = ORIGIN.match(comment.strip()) if hash_ else None
            if found:
                out[number] = found.group(1)
                break
    return out


def text(draft: Draft, notebook: str, extra: tuple[str, ...] = (),
         block: bool | frozenset[str] = False) -> str:
    """The case as YAML; block: the sections written as the notebook's own lines (`forward:
    |`, `backward: |`; True: the backward pass), each line with the cell and line it came
    from as a Python comment."""
    blocks = frozenset({"backward"}) if block is True else frozenset(block or ())
    lines = _header(draft, notebook, extra)
    lines += [f"name: {draft.name}", f"title: {scalar(one_line(draft.title, 200))}",
              f"source: {scalar(one_line(draft.source, 300))}", f"dtype: {draft.dtype}"]
    lines += _mapping("dims", draft.dims)
    lines += _mapping("inputs", draft.inputs)
    if draft.kind == "gradient":
        lines += _block("forward", draft.forward_block) if "forward" in blocks else \
            _mapping("forward", draft.forward)
        if draft.output:
            lines.append(_line(draft.output, 0))
        if draft.upstream:
            lines.append(_line(draft.upstream, 0))
        lines += _mapping("chain_rule", draft.chain_rule)
        lines += _mapping("gradient", draft.gradient)
        lines += _block("backward", draft.backward_block) if "backward" in blocks else \
            _mapping("backward", draft.backward)
        lines += _mapping("expect", draft.expect)
        if draft.points:
            lines.append("points:")
            for point in draft.points:
                lines += _point(point)
    else:
        lines.append("steps:")
        for step in draft.steps:
            lines += _step(step, 1)
    return "\n".join(lines) + "\n"


def _header(draft: Draft, notebook: str, extra) -> list[str]:
    first, last = draft.cells
    said = [f"Drafted by `autograd-lab draft` from {Path(notebook).name}, {first} to {last}. Each "
            "entry's comment names the cell and line it came from; the numbers are what the "
            "notebook printed, each a claim held to the digits printed. Review before relying "
            "on it."]
    said += list(draft.header) + list(extra)
    out = []
    for paragraph in said:
        out += ["# " + line for line in textwrap.wrap(one_line(paragraph, 2_000), WIDTH - 2)]
    return out


def _mapping(key: str, entries: list[Entry], indent: int = 0) -> list[str]:
    if not entries:
        return []
    pad = "  " * indent
    return [f"{pad}{key}:"] + [_line(e, indent + 1) for e in entries]


def _block(key: str, lines: list) -> list[str]:
    """A block of the notebook's statements (Lines, or the Wheres of its lines, verbatim),
    each with its origin beside it."""
    if not lines:
        return []
    out = [f"{key}: |"]
    for line in lines:
        code = line.code.strip()
        comment = line.comment if isinstance(line, Line) else str(line)
        first, *more = code.split("\n")   # a loop (makemore's dC) is its lines, as indented
        out.append(_commented("  " + first, comment))
        # each line of a loop written as it is is the notebook's next: its origin too, for a
        # report to name (a changed one is rewritten, its lines not the notebook's)
        at = ORIGIN_PARTS.match(comment) if "changed from:" not in comment else None
        out += [_commented("  " + rest.rstrip(), f"{at[1]}, line {int(at[2]) + k}"
                           if at and rest.strip() else "") for k, rest in enumerate(more, 1)]
    return out


def _line(entry: Entry, indent: int) -> str:
    body = f"{'  ' * indent}{key(entry.key)}: {scalar(entry.value)}"
    return _commented(body, entry.comment)


def _commented(body: str, comment: str) -> str:
    if not comment:
        return body
    return f"{body.ljust(COMMENT_AT)}  # {one_line(comment, 200)}"


def _point(point: Point) -> list[str]:
    at = "{" + ", ".join(f"{key(e.key)}: {scalar(e.value)}" for e in point.at) + "}"
    lines = [f"  - at: {at}"]
    lines += _mapping("expect", point.expect, 2)
    return lines


def _step(step: StepOut, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}# {one_line(note, 300)}" for note in step.notes]
    if step.key == "" and not step.expect:
        return lines   # notes after the last step: comments only
    if step.key == "":
        first = ORIGIN.match(step.expect[0].comment) if step.expect else None
        lines.append(_commented(f"{pad}- expect:", first.group(1) if first else ""))
        lines += [_line(e, depth + 2) for e in step.expect]
        return lines
    if step.key == "no_grad":
        lines.append(_commented(f"{pad}- no_grad:", step.comment))
        for inner in step.value if isinstance(step.value, list) else []:
            lines += _step(inner, depth + 2)
    elif step.key in ("detach", "requires_grad"):
        lines.append(_commented(f"{pad}- {step.key}: {scalar(step.value)}", step.comment))
    elif step.key == "backward" and isinstance(step.value, dict):   # with gradient=
        lines.append(_commented(f"{pad}- backward: {scalar(step.value)}", step.comment))
    elif step.key in ("backward", "zero_grad", "retain_grad"):
        lines.append(_commented(f"{pad}- {step.key}: {key(str(step.value))}", step.comment))
    elif _near_action(step.key):
        lines.append(f"{pad}- compute:")
        lines.append(_commented(f"{pad}    {key(step.key)}: {scalar(step.value)}", step.comment))
    else:
        lines.append(_commented(f"{pad}- {key(step.key)}: {scalar(step.value)}", step.comment))
    lines += _mapping("expect", step.expect, depth + 1)
    return lines


def _near_action(name: str) -> bool:
    return name in ACTIONS or bool(difflib.get_close_matches(name, ACTIONS, n=1, cutoff=0.75))


# --- scalars -------------------------------------------------------------------------------

def scalar(value) -> str:
    if value is None:
        return "~"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Digits):
        return number(value)
    if isinstance(value, (int, float)):
        return number(repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    if re.fullmatch(r"-?\d+(\.\d+)?", str(value)):
        return str(value)   # an expression that is a number (z/b: 1) is written as one
    return _string(str(value))


def number(text: str) -> str:
    """A number's digits as YAML reads them as a number: 1e-08 (YAML 1.1 wants a point and a
    signed exponent) becomes 1.e-08, which keeps the digits and so the claim's precision."""
    t = text.strip()
    mantissa, e, exponent = t.lower().partition("e")
    if e:
        if "." not in mantissa:
            mantissa += "."
        if exponent[:1] not in "+-":
            exponent = "+" + exponent
        t = f"{mantissa}e{exponent}"
    return t


def key(name: str) -> str:
    return _string(str(name), keyish=True)


def _string(s: str, keyish: bool = False) -> str:
    if _PLAIN.fullmatch(s) and not s.endswith(" ") and not re.search(r"\s#|:\s", s):
        try:
            if yaml.safe_load(s) == s:
                return s
        except yaml.YAMLError:
            pass
    return json.dumps(s, ensure_ascii=True)
