"""The data of a chart as the page carries it (``{{ chart|json_script:"id" }}``), drawn by
marketplace/static/marketplace/js/charts.js with the vendored Apache ECharts. The figures are the ones of the
table beside the chart, in the units the table shows them: counts, percentages (0-100) and money in yuan, which
the script writes in the site's money format (the ``fen`` filter's prefix and suffix for the page's language)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

from marketplace.templatetags.market_format import fen


def chart_locale() -> str:
    return "EN" if (get_language() or "").startswith("en") else "ZH"


def money_format() -> dict:
    """The prefix and suffix the ``fen`` filter puts around an amount in the page's language."""
    prefix, _zero, suffix = fen(0).partition("0.00")
    return {"prefix": prefix, "suffix": suffix}


def yuan(amount_fen) -> float | None:
    """Fen as yuan for a chart axis (exact to the fen; only drawn, never computed with)."""
    return None if amount_fen is None else float(Decimal(int(amount_fen)) / 100)


def percent(share) -> float | None:
    """A share (0-1) as the percentage the tables show (one decimal, rounded half up like the figure filter)."""
    if share is None:
        return None
    return float((Decimal(str(share)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def series(name, values, *, unit: str = "count", kind: str = "bar") -> dict:
    return {"name": str(name), "type": kind, "unit": unit, "values": list(values)}


def chart(categories, *series_list, horizontal: bool = False) -> dict:
    return {
        "categories": [str(c) for c in categories],
        "series": list(series_list),
        "horizontal": horizontal,
        "locale": chart_locale(),
        "money": money_format(),
    }
