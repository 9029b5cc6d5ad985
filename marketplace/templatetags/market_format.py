"""Money and date formatting per active language. Money is integer fen in the domain; this is the one
place it becomes text."""

from decimal import Decimal

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
