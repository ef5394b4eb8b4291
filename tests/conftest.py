"""Shared helpers: write a case file from text and check it."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "cases"


@pytest.fixture
def write_case(tmp_path):
    """write_case(text, name='case') -> the path of a YAML file holding the dedented text."""
    def write(text: str, name: str = "case") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path
    return write


@pytest.fixture
def slow_sympy():
    """SymPy's cache emptied: the cases of one process share the derivatives SymPy has taken,
    so a test that needs a case to be slow (a time limit) starts from none, as a first run
    does, whichever tests this worker ran before it."""
    from sympy.core.cache import clear_cache
    clear_cache()


@pytest.fixture(autouse=True)
def _no_step_summary(monkeypatch):
    """A test run inside GitHub Actions must not write into the job's own summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(autouse=True)
def _own_limits(monkeypatch):
    """Each test with the default time limit and tolerance: `check --timeout` and
    `--tolerance` set them in the environment for the run's workers, which in a test through
    CliRunner is the test process itself, and would hold for every later test there."""
    monkeypatch.delenv("AUTOGRAD_LAB_TIMEOUT", raising=False)
    monkeypatch.delenv("AUTOGRAD_LAB_TOLERANCE", raising=False)


MAKEMORE_PART4 = Path(__file__).parent / "sources" / "nn-zero-to-hero" / \
    "makemore_part4_backprop.ipynb"


@pytest.fixture(scope="session")
def makemore_part4_blocks(tmp_path_factory):
    """makemore part 4 as published, drafted once with --blocks (seconds of work) for every
    test that reads that draft; the tests only read it."""
    from autograd_lab.draft import draft
    return draft(MAKEMORE_PART4, tmp_path_factory.mktemp("makemore_part4") / "drafts",
                 blocks=True)
