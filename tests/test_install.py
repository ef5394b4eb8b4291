"""What an install without the extras gives: no pytest (the plugin is not the package), no
matplotlib (plots skipped, said in one line). Run in fresh interpreters with those imports
made to fail, as they fail where the packages are not installed."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import CASES

WITHOUT = """
import sys
for name in {names!r}:
    sys.modules[name] = None   # `import name` now raises ImportError, as if not installed
sys.argv = ["autograd-lab", *{args!r}]
from autograd_lab.cli import main
main()
"""


def run_without(names: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT.format(names=names, args=list(args))],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow   # an installed environment without pytest
def test_check_and_import_work_without_pytest(tmp_path):
    done = run_without(["pytest", "_pytest"], "check", str(CASES / "x_squared.yaml"),
                       "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["passed"] == 1
    imported = subprocess.run([sys.executable, "-c", "import sys; sys.modules['pytest'] = None; "
                               "import autograd_lab; print(autograd_lab.check_file)"],
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr


def test_without_matplotlib_the_plots_are_skipped_saying_so(tmp_path):
    done = run_without(["matplotlib"], "check", str(CASES / "x_squared.yaml"),
                       "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1
    assert "note: plots skipped: matplotlib is not installed" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml",
                                                          "report.json", "report.md"]
