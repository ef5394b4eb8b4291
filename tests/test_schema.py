"""The case schema: what validation says, and the JSON Schema an editor checks files with."""
from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from autograd_lab.cli import main
from autograd_lab.reading import json_schema

from .conftest import CASES

GOOD = {"inputs": {"x": {"value": 3.0, "grad": True}}, "forward": {"y": "x**2"},
        "chain_rule": {"y/x": "2*x"}}


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_case_in_cases_is_valid_for_an_editor(validator, path):
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


@pytest.mark.parametrize("change", [
    {"chainrule": {"y/x": "2*x"}},                         # a typo of a key
    {"dtype": "float16"},
    {"inputs": {"x": {"value": 3.0, "grads": True}}},
    {"inputs": {"x": {"value": True, "grad": True}}},       # YAML's yes is not a number
    {"sample": {"count": 0, "ranges": {}}},
    {"forward": {"y": {"x": 1}}},
    {"dims": {"n": "four"}},
    {"inputs": {"x": {"value": {"randn": [3], "seed": "s"}, "grad": True}}},
])
def test_an_editor_flags_what_the_checker_refuses(validator, change):
    assert list(validator.iter_errors({**GOOD, **change}))


def test_the_cli_prints_the_schema():
    run = CliRunner().invoke(main, ["schema"])
    assert run.exit_code == 0
    assert json.loads(run.stdout) == json_schema()
