"""The JSON Schema of report.json (report.schema.json beside this module): the contract of
the report's keys as a file that CI scripts can validate against. The file is the one
source: `autograd-lab schema --report` prints it and the docs include it."""
from __future__ import annotations

import json
from importlib.resources import files

FILE = "report.schema.json"


def text() -> str:
    return files(__package__).joinpath(FILE).read_text(encoding="utf-8")


def report_schema() -> dict:
    return json.loads(text())
