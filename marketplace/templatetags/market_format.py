"""Money, rates and figures as text, per active language. Money is integer fen in the domain; `money_text`
(marketplace/parties/money.py, the ground floor, so that licensing's notices use it too) is the one place it
becomes text, and `royalty_text` the one place a royalty rate does: every template filter, page selector and
message goes through them, so a page never shows '¥20000' beside '20,000.00 元'."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from marketplace.parties.money import money_text

register = template.Library()

def rate_text(rate) -> str:
    """A rate in percent without trailing zeros: Decimal('10.00') -> '10%', Decimal('2.50') -> '2.5%'."""
    if rate is None or rate == "":
        return ""
    value = Decimal(str(rate)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{value:f}%"


def royalty_text(rate, base_label) -> str:
    """A royalty as one phrase of the active language: '10% of profit' / '利润的 10%'."""
    if not base_label:
        return rate_text(rate)
    return _("%(rate)s of %(base)s") % {"rate": rate_text(rate), "base": base_label}


def _money_label(text: str, amount_yuan: int) -> str:
    return _(text) % {"amount": money_text(amount_yuan * 100)}


def _money_range_label(low_yuan: int, high_yuan: int) -> str:
    return f"{money_text(low_yuan * 100)} – {money_text(high_yuan * 100)}"


# Translatable labels holding amounts in whole yuan (the search's price facets), formatted when they are shown,
# in the language of that moment; `text` is marked with gettext_noop where it is written.
money_label = lazy(_money_label, str)
money_range_label = lazy(_money_range_label, str)


@register.filter
def fen(amount, currency="CNY"):
    """Integer fen as money (see money_text)."""
    return money_text(amount, currency)


@register.filter
def yuan(amount):
    """Whole yuan as money (see money_text), for the few values read in yuan (the search's first amount due)."""
    if amount is None or amount == "":
        return ""
    return money_text(int(amount) * 100)


@register.filter
def rate(value):
    """A rate in percent (see rate_text)."""
    return rate_text(value)


@register.filter
def royalty_of(rate_value, base_label):
    """`{{ declaration.royalty_rate|royalty_of:declaration.get_royalty_base_display }}`: '10% of profit'."""
    return royalty_text(rate_value, base_label)


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
        return money_text(value)
    return number_format(value, use_l10n=True, force_grouping=True)
