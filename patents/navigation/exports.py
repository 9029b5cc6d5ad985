"""The patent landscape as CSV / XLSX (see patents.exports for the writers and the formula guard)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from django.utils.translation import gettext_lazy as _

from patents.exports import Exporter, register
from patents.navigation.selectors import Landscape


@register
class LandscapeExporter(Exporter):
    """The current (filtered) landscape as tables: stacked with a ``section`` column in CSV, one sheet per
    breakdown in XLSX. Labels are in the active language; technology fields and sectors carry both names."""

    identifier = "landscape"
    verbose_name = _("Patent landscape")
    header = ("key", "label", "name_en", "name_zh", "count", "percent")

    def __init__(self, landscape: Landscape):
        self.landscape = landscape

    def summary_rows(self) -> Iterator[tuple]:
        yield ("total", str(_("Total")), "", "", self.landscape.total, 100.0 if self.landscape.total else 0.0)
        for name, value in self.landscape.applied_filters.items():
            yield (f"filter:{name}", value, "", "", None, None)

    def sheets(self) -> dict[str, pd.DataFrame]:
        frames = {"summary": pd.DataFrame(list(self.summary_rows()), columns=list(self.header))}
        for breakdown in self.landscape.breakdowns:
            rows = [(b.key, str(b.label), b.name_en, b.name_zh, b.count, b.share) for b in breakdown.buckets]
            frames[breakdown.id] = pd.DataFrame(rows, columns=list(self.header))
        for frame in frames.values():
            frame["count"] = frame["count"].astype("Int64")  # stays an integer where a filter row leaves it blank
        return frames

    def frame(self) -> pd.DataFrame:
        stacked = pd.concat([frame.assign(section=name) for name, frame in self.sheets().items()], ignore_index=True)
        return stacked[["section", *self.header]]
