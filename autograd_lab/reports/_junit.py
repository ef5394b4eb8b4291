"""junit.xml: one testcase per case, for the JUnit readers of GitLab, Jenkins and GitHub actions."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path, PurePath

from ..result import ERROR, FAILED, UNCHECKED, CaseResult, junit_properties, located, place_of
from ..text import xml
from ._atomic import write_atomic
from ._reporter import Reporter

SUITE = "autograd-lab"


def write(results: list[CaseResult], out: Path) -> Path:
    path = out / "junit.xml"
    write_atomic(path, render(results))
    return path


def render(results: list[CaseResult], generated: str | None = None) -> str:
    # JUnit's schema wants a timestamp without a zone: this one is UTC
    when = generated or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    counts = {"tests": str(len(results)),
              "failures": str(sum(r.status == FAILED for r in results)),
              # nothing compared is no pass: an error, as the pytest plugin reports it
              "errors": str(sum(r.status in (ERROR, UNCHECKED) for r in results)),
              "skipped": "0",
              "time": f"{sum(r.seconds for r in results):.3f}"}
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts, "timestamp": when})
    for r in results:
        suite.append(testcase(r))
    ET.indent(root)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def testcase(r: CaseResult) -> ET.Element:
    attrs = {"classname": classname(r.file), "name": r.name, "file": r.file,
             "time": f"{r.seconds:.3f}"}
    line = next((place_of(p)[0] for p in r.problems if place_of(p)[0]), r.line)
    if line:   # where the first mistake is written, as pytest's report names it
        attrs["line"] = str(line)
    case = ET.Element("testcase", {k: _clean(v) for k, v in attrs.items()})
    props = junit_properties(r)
    if props:
        holder = ET.SubElement(case, "properties")
        for name, value in props:
            ET.SubElement(holder, "property", {"name": _clean(name), "value": _clean(value)})
    if r.status in (FAILED, ERROR, UNCHECKED):
        tag = "failure" if r.status == FAILED else "error"
        first = r.problems[0] if r.problems else r.status
        kind = "autograd-lab." + {ERROR: "CaseError", UNCHECKED: "Unchecked"}.get(
            r.status, _kind(first))
        element = ET.SubElement(case, tag, {"message": _clean(located(first, r.file)),
                                            "type": kind})
        element.text = _clean("\n".join(located(p, r.file) for p in r.problems))
    if getattr(r, "notes", None):
        ET.SubElement(case, "system-out").text = _clean("\n".join(f"note: {n}" for n in r.notes))
    return case


def classname(file: str) -> str:
    """cases/perceptron_bce.yaml -> cases.perceptron_bce.yaml: pytest's junitxml scheme (the
    node id's path, its parts joined by dots), so that a case checked by the CLI and by the
    pytest plugin has one name in a CI dashboard."""
    parts = [p for p in PurePath(file).parts if p not in ("/", "..", ".")]
    return ".".join(parts) or "case"


def _kind(problem: str) -> str:
    """The kind of the first problem: a wrong edge, a disagreement, a false claim."""
    head = problem.split(" ", 1)[0]
    return {"chain_rule": "WrongEdge", "gradient": "Disagreement",
            "claim": "FalseClaim"}.get(head, "Failure")


def _clean(value) -> str:
    return xml(str(value))


class JunitReport(Reporter):
    """junit.xml, written once every case is checked."""

    def finish(self, results: list[CaseResult]) -> list[Path]:
        return [write(results, self.out)]
