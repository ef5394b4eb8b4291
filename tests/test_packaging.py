"""The package as a user installs it: its metadata, its version, `python -m autograd_lab`."""
from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

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
