"""Start-up: torch and SymPy imported out of the garbage collector's way."""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def frozen_imports():
    """No collection while the block imports, and what it made moved out of the collector's
    reach after (gc.freeze). Those hundreds of thousands of objects live until the process
    exits, yet every full collection walks them all: about a fifth of the import of torch
    and SymPy, and a third of checking the first few cases, went to passes that found
    nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
