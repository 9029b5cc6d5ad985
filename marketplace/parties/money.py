"""Money as text, defined once for every layer: integer fen in the domain, and here the one place it becomes text
in the active language ('¥20,000.00' in English, '20,000.00 元' in Chinese). It lives with the parties, the
ground floor every app may import, so that a licence notice, an audit-log record and a page template write an
amount the same way (the template filters in marketplace/templatetags/market_format.py call it)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import get_language

_CENT = Decimal("0.01")


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def money_text(amount_fen, currency: str = "CNY") -> str:
    """Integer fen as money in the active language: '¥20,000.00' (English) or '20,000.00 元' (Chinese), always
    with two decimals and thousands grouped by three (Django's Chinese number format groups by nothing, which
    gave '20000.00 元'); '' for no amount. Another currency is written 'USD 1,000.00' in both languages."""
    if amount_fen is None or amount_fen == "":
        return ""
    value = (Decimal(int(amount_fen)) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    text = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    if currency != "CNY":
        return f"{sign}{currency} {text}"
    return f"{sign}{text} 元" if _chinese() else f"{sign}¥{text}"
