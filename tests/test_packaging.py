"""The package as a user installs it: its metadata, its version, `python -m autograd_lab`;
the sdist and the wheel `python -m build` makes, checked by twine."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from filelock import FileLock

import autograd_lab

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_installed_metadata():
    assert autograd_lab.__version__ == metadata.version("autograd-lab") == "0.2.0"
    assert "__version__" in dir(autograd_lab)


def test_python_m_autograd_lab_is_the_command():
    done = subprocess.run([sys.executable, "-m", "autograd_lab", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "autograd-lab, version 0.2.0\n")


def test_importing_the_package_loads_nothing_heavy():
    probe = ("import sys, autograd_lab; "
             "print(sorted(m for m in ('torch', 'sympy', 'numpy', 'click') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]"


def test_metadata_says_the_license_classifiers_and_urls():
    meta = metadata.metadata("autograd-lab")
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert {"Framework :: Pytest", "Programming Language :: Python :: 3.10",
            "Programming Language :: Python :: 3.12", "Typing :: Typed",
            "Topic :: Scientific/Engineering :: Mathematics"} <= set(meta.get_all("Classifier"))
    assert "Source, https://github.com/autograd-lab/autograd-lab" in meta.get_all("Project-URL")
    assert "Copyright (c) the autograd-lab authors" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "autograd_lab" / "py.typed").exists()


# --- the sdist and the wheel, as `python -m build` makes them --------------------------------

# a copy of the tree to build from (the build leaves build/ and *.egg-info behind it),
# without what a run leaves: at the top, and anywhere
NOT_SOURCE_AT_TOP = {".git", "build", "dist", "reports", "site", ".hypothesis"}
NOT_SOURCE = shutil.ignore_patterns(".venv*", "__pycache__", "*.pyc", "*.egg-info",
                                    ".pytest_cache")


def _not_source(folder: str, names: list[str]) -> set[str]:
    top = NOT_SOURCE_AT_TOP if Path(folder) == ROOT else set()
    return set(NOT_SOURCE(folder, names)) | (top & set(names))
SHIPPED_FOLDERS = ("autograd_lab", "tests", "cases", "examples", "benchmarks", "docs")
SHIPPED_FILES = ("README.md", "CHANGELOG.md", "CONTRIBUTING.md", "LICENSE", "MANIFEST.in",
                 "mkdocs.yml", "pyproject.toml", "constraints.in", "constraints.txt",
                 ".pre-commit-hooks.yaml", ".ci/run", ".ci/latest")


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """The sdist and the wheel, built once for the whole run (pytest-xdist's workers share
    one build, behind a lock), with the build's output in build.log."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):   # each worker's is a folder of the run's own
        shared = shared.parent
    out = shared / "dist"
    with FileLock(str(shared / "dist.lock")):
        if not (out / "build.log").exists():
            source = shared / "source"
            shutil.rmtree(source, ignore_errors=True)
            shutil.copytree(ROOT, source, ignore=_not_source)
            # PYTHONDONTWRITEBYTECODE makes setuptools warn that it skips byte-compiling: a
            # setting of this environment, not of the project
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out),
                                   str(source)], env=env, capture_output=True, text=True,
                                  timeout=240)
            assert done.returncode == 0, done.stdout + done.stderr
            (out / "build.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    return out


@pytest.mark.slow   # builds the sdist and the wheel
def test_the_build_gives_no_warning_and_twine_passes_both(dist):
    log = (dist / "build.log").read_text(encoding="utf-8")
    assert [line for line in log.splitlines() if "warn" in line.lower()] == []
    built = sorted(p.name for p in dist.iterdir() if p.name != "build.log")
    assert built == ["autograd_lab-0.2.0-py3-none-any.whl", "autograd_lab-0.2.0.tar.gz"]
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           *(str(dist / name) for name in built)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


@pytest.mark.slow   # builds the sdist and the wheel
def test_the_wheel_holds_the_package_alone(dist):
    with zipfile.ZipFile(dist / "autograd_lab-0.2.0-py3-none-any.whl") as wheel:
        names = wheel.namelist()
        meta = wheel.read("autograd_lab-0.2.0.dist-info/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {"autograd_lab", "autograd_lab-0.2.0.dist-info"}
    assert {"autograd_lab/py.typed", "autograd_lab/templates/example.yaml",
            "autograd_lab/templates/workflow.yml", "autograd_lab/reports/report.schema.json",
            "autograd_lab/__main__.py",
            "autograd_lab-0.2.0.dist-info/licenses/LICENSE"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "License-Expression: MIT" in meta.splitlines()
    assert "Classifier: Framework :: Pytest" in meta.splitlines()
    assert "Description-Content-Type: text/markdown" in meta.splitlines()


@pytest.mark.slow   # builds the sdist and the wheel
def test_the_sdist_is_the_source_tree_so_its_tests_run(dist):
    with tarfile.open(dist / "autograd_lab-0.2.0.tar.gz") as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    expected = set(SHIPPED_FILES) | {
        str(p.relative_to(ROOT)) for folder in SHIPPED_FOLDERS
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert sorted(expected - names) == []
    assert {"tests/conftest.py", "tests/__init__.py", "tests/golden/junit.xml",
            "tests/corpus/attribute_access.yaml", "cases/x_squared.yaml"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith((".venv", "reports/"))]
