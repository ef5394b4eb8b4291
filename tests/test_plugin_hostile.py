"""Issue 27, pytest: a FIFO or a link to /dev/zero named *.yaml in a cases folder is an error
naming it, as `check` says, not silently left uncollected (pytest lists only regular files)."""
from __future__ import annotations

import os

import pytest

from .test_plugin import X_SQUARED, ini, outcomes

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester):
    ini(pytester)
    return pytester


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_special_file_named_yaml_is_an_error_not_skipped(pytester, special):
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    odd = pytester.path / "cases" / "odd.yaml"
    if special == "fifo":
        os.mkfifo(odd)
    else:
        odd.symlink_to(special)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert outcomes(result) == {"cases/odd.yaml::odd": "error",
                                "cases/x_squared.yaml::x_squared": "passed"}
    report = next(r for r in result.reprec.getreports("pytest_runtest_logreport")
                  if r.nodeid == "cases/odd.yaml::odd" and r.failed)
    assert "not a regular file: a case is a YAML text file" in str(report.longrepr)


def test_outside_the_cases_folders_nothing_special_is_collected(pytester):
    (pytester.path / "other").mkdir()
    os.mkfifo(pytester.path / "other" / "odd.yaml")
    pytester.makefile(".yaml", **{"cases/x_squared": X_SQUARED})
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert outcomes(result) == {"cases/x_squared.yaml::x_squared": "passed"}


def test_a_fifo_named_on_the_command_line_is_an_error_not_a_hang(pytester):
    """Named, a file is looked at for a case's keys: a FIFO is not opened (it would never
    end), but collected, and its check says what it is."""
    (pytester.path / "cases").mkdir()
    os.mkfifo(pytester.path / "cases" / "odd.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", "cases/odd.yaml")
    assert outcomes(result) == {"cases/odd.yaml::odd": "error"}
