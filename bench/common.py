"""What every benchmark shares: timing, percentiles and the shape of a figure in the report."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


@dataclass
class Figure:
    """One line of the report: the measured value, the same-run baseline, their ratio and the goal.

    `ratio` is value / baseline in the figure's own unit; `goal` says in words what passes and `met` whether
    this run passed it (None when it could not be judged)."""

    name: str
    unit: str
    value: float | None
    baseline: float | None
    baseline_label: str
    ratio: float | None
    goal: str
    met: bool | None
    samples: int = 0
    note: str = ""
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b
