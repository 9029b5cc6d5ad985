"""Where the time goes: a cProfile of one call, boiled down to the project's own functions and the heaviest
functions overall, so the report can say why a goal is missed."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)


def _where(key) -> str:
    filename, line, name = key
    short = filename.replace(ROOT + "/", "").replace(ROOT, "")
    if "site-packages/" in short:
        short = short.split("site-packages/", 1)[1]
    return f"{short}:{line} {name}"


def profile(fn: Callable[[], object], *, top: int = 8) -> dict:
    """Run `fn` once under cProfile. Returns the total seconds, the project's functions by cumulative time and
    every function by own time (the top `top` of each)."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        fn()
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler).stats  # key -> (calls, primitive calls, tottime, cumtime, callers)
    total = max((v[3] for v in stats.values()), default=0.0)
    ours = sorted(((k, v) for k, v in stats.items() if k[0].startswith(ROOT) and "/bench/" not in k[0]
                   and "/.venv/" not in k[0]), key=lambda kv: -kv[1][3])
    own = sorted(stats.items(), key=lambda kv: -kv[1][2])
    return {
        "total_s": round(total, 3),
        "project_cumulative": [{"where": _where(k), "s": round(v[3], 3), "calls": v[0]} for k, v in ours[:top]],
        "own_time": [{"where": _where(k), "s": round(v[2], 3), "calls": v[0]} for k, v in own[:top]],
    }
