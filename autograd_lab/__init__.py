"""autograd-lab: prove a worked autograd example right (torch and SymPy load on first use)."""
from __future__ import annotations

import importlib

# name -> the module that defines it; resolved on first access, so `import autograd_lab`,
# `autograd-lab --help` and pytest's start-up (the plugin) stay light
_EXPORTS = {
    "load_case": "api", "check_file": "api", "check_paths": "api", "case_files": "api",
    "assert_passes": "api", "diagnosis": "api", "check_function": "api",
    "check_autograd_function": "api", "case_from_dict": "api", "cases_from_source": "api",
    "Case": "case", "Behaviour": "case", "CaseError": "errors", "CaseResult": "result",
    "PASSED": "result", "FAILED": "result", "ERROR": "result", "Problem": "result",
    "UNCHECKED": "result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name == "__version__":
        globals()[name] = _version()
        return globals()[name]
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})


def _version() -> str:
    """The installed distribution's version (pyproject.toml is its one source); read on first
    access, since importlib.metadata scans the installed distributions."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("autograd-lab")
    except PackageNotFoundError:   # a source tree on sys.path, never installed
        return "0+unknown"
