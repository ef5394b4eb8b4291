"""Start-up: what a block imports is kept out of the garbage collector's passes."""
from __future__ import annotations

import gc

from autograd_lab.startup import frozen_imports


def test_no_collection_inside_and_what_it_made_is_frozen_after():
    before = gc.get_freeze_count()
    try:
        with frozen_imports():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(made)
        collected = {id(x) for g in range(3) for x in gc.get_objects(generation=g)}
        assert not {id(x) for x in made} & collected
    finally:
        gc.unfreeze()


def test_a_collector_switched_off_stays_off():
    gc.disable()
    try:
        with frozen_imports():
            pass
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
