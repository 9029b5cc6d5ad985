"""Process-level helpers every app may use (the ground floor, like money.py)."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a block that allocates hundreds of thousands of short-lived
    objects in no reference cycle (an import's chunk of rows, a dashboard board's period of licences): the
    collector would walk the survivors again and again, a fifth to a quarter of the work for no garbage
    (reference counting frees them). It runs again afterwards if it ran before; another thread's block may turn it
    back on sooner, which only loses the saving."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
