"""A case file read: YAML -> validated -> a Case or a Behaviour, every problem at its place."""
from __future__ import annotations

from pathlib import Path

from ..case import Behaviour, Case
from ..errors import CaseError
from ._behaviour import resolve as resolve_steps
from ._resolve import resolve
from ._schema import BehaviourModel, validate
from ._yaml import Source, read


def load(path: str | Path) -> Case | Behaviour:
    """Read and resolve one case file; every problem is a CaseError at its file:line.

    A file with steps: is a behaviour case (a Behaviour)."""
    data, where = read(path)
    try:
        model = validate(data, where)
        if isinstance(model, BehaviourModel):
            return resolve_steps(model, where, default_name=Path(path).stem)
        return resolve(model, where, default_name=Path(path).stem)
    except CaseError as exc:
        exc.kind = "behaviour" if isinstance(data, dict) and "steps" in data else "gradient"
        raise


def from_dict(data: dict, file: str = "<dict>") -> Case | Behaviour:
    """A case from a dict with a case file's keys (as yaml.safe_load would give); every
    problem is a CaseError, at `file` (a dict has no lines)."""
    where = Source(file)
    model = validate(data, where)
    name = str(data.get("name", "case")) if isinstance(data, dict) else "case"
    if isinstance(model, BehaviourModel):
        return resolve_steps(model, where, default_name=name)
    return resolve(model, where, default_name=name)
