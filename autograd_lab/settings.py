"""A project's defaults for `autograd-lab check`: the [tool.autograd-lab] table of its
pyproject.toml, as pytest reads [tool.pytest.ini_options]. Flags given on the command line
win over it.

    [tool.autograd-lab]
    paths = ["cases", "lessons"]
    out = "build/reports"
    format = ["json", "junit"]
    plots = "all"
    jobs = 0
    timeout = 120
    tolerance = {rtol = 1e-6, atol = 1e-8}
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .text import terminal

if sys.version_info >= (3, 11):
    import tomllib
else:   # tomli: pyproject's dependency on 3.10
    import tomli as tomllib

TABLE = "autograd-lab"
FILE = "pyproject.toml"
# key -> (what it takes, in words; a check of a value)
KEYS = {
    "paths": ("a list of files or folders",
              lambda v: isinstance(v, list) and all(isinstance(p, str) and p for p in v)),
    "out": ("a folder", lambda v: isinstance(v, str) and bool(v)),
    "format": ("a list of formats, or one string",
               lambda v: isinstance(v, str) or (isinstance(v, list)
                                                and all(isinstance(f, str) for f in v))),
    "plots": ('"auto", "all" or "none"', lambda v: v in ("auto", "all", "none")),
    "jobs": ("a whole number, 0 or more",
             lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0),
    "timeout": ("seconds", lambda v: _number(v) and v >= 0),
    "tolerance": ("a table {rtol = ..., atol = ...}",
                  lambda v: isinstance(v, dict) and set(v) <= {"rtol", "atol"} and bool(v)
                  and all(_number(x) and x >= 0 for x in v.values())),
}


class BadSettings(ValueError):
    """A [tool.autograd-lab] table that cannot be used: one line naming the file and key."""


@dataclass
class Settings:
    """The table's values (paths and out made relative to here, as the table means them from
    its own folder), and the file they came from; empty when there is none."""

    values: dict = field(default_factory=dict)
    source: Path | None = None

    def check_defaults(self) -> dict:
        """The defaults of `check`'s options (click's default_map: a flag given wins)."""
        chosen = {k: v for k, v in self.values.items()
                  if k in ("out", "jobs", "timeout", "plots")}
        if "format" in self.values:
            given = self.values["format"]
            chosen["formats"] = (given,) if isinstance(given, str) else tuple(given)
        if "tolerance" in self.values:
            tol = self.values["tolerance"]
            chosen["tolerance"] = ",".join(str(tol.get(k, 0.0)) for k in ("rtol", "atol"))
        return chosen

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(self.values.get("paths", ()))


def find(start: Path | None = None) -> Settings:
    """The settings of the nearest pyproject.toml, from `start` (here) upward, that has a
    [tool.autograd-lab] table; none found, no settings."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE
        if candidate.is_file():
            table = _table(candidate)
            if table is not None:
                return _read(table, candidate)
    return Settings()


def _table(path: Path):
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadSettings(f"{_shown(path)}: cannot be read as TOML ({exc})") from None
    tool = data.get("tool")
    return tool.get(TABLE) if isinstance(tool, dict) else None


def _read(table, source: Path) -> Settings:
    where = f"{_shown(source)}: [tool.{TABLE}]"
    if not isinstance(table, dict):
        raise BadSettings(f"{where} must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise BadSettings(f"{where}: unknown key {', '.join(map(repr, unknown))}; the keys are "
                          f"{', '.join(KEYS)}")
    for key, value in table.items():
        words, fits = KEYS[key]
        if not fits(value):
            raise BadSettings(f"{where}: {key} takes {words}, not {value!r}")
    values = dict(table)
    base = source.parent
    if "paths" in values:
        values["paths"] = [_from(base, p) for p in values["paths"]]
    if "out" in values:
        values["out"] = _from(base, values["out"])
    return Settings(values, source)


def _from(base: Path, written: str) -> Path:
    """A path the table wrote, from its folder, as seen from here (relative where it can be)."""
    path = base / written
    try:
        return Path(os.path.relpath(path))
    except ValueError:   # another drive (Windows)
        return path


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(path: Path) -> str:
    return terminal(str(path), markup=False)
