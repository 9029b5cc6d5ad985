"""Money and date formatting per active language. Money is integer fen in the domain; this is the one
place it becomes text."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def fen(amount, currency="CNY"):
    """Format integer minor units as money: '¥12,345.00' (en) or '12,345.00 元' (zh)."""
    if amount is None or amount == "":
        return ""
    value = Decimal(int(amount)) / 100
    text = number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    if currency != "CNY":
        return f"{currency} {text}"
    if (get_language() or "").startswith("zh"):
        return f"{text} 元"
    return f"¥{text}"


# Indicators that are shares (0–1) and shown as percentages; see marketplace.office.statistics.
_SHARE_FIGURES = {"quick_licence_deal_rate", "overall_conversion", "deal_rate_recorded", "deal_rate_announced",
                  "deal_rate_announced_recorded", "recording_compliance",
                  "free_licence_share", "multi_licensee_share", "voucher_share_of_fee_volume", "deal_rate"}


@register.filter
def figure(figures, key):
    """One indicator of a figures dict as text: shares as percentages, amounts in fen (``*_fen``) as money,
    "—" for none."""
    value = (figures or {}).get(key)
    if value is None:
        return "—"
    if key in _SHARE_FIGURES:
        # Quantize first: number_format cuts extra decimals off instead of rounding them.
        percent = (Decimal(str(value)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return number_format(percent, decimal_pos=1, use_l10n=True) + "%"
    if key.endswith("_fen"):
        return fen(value)
    return number_format(value, use_l10n=True, force_grouping=True)


@register.filter
def bar_width(value, peak):
    """A bar's width in percent of the tallest (for the server-drawn charts)."""
    try:
        return round(100 * float(value or 0) / float(peak or 1), 1)
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
