"""Unified social credit code (统一社会信用代码) per GB 32100-2015.

Written by hand because no maintained PyPI package covers it: the rule is a short table and a weighted
sum, and we want our own error messages (which character, what was expected)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015 alphabet: digits and capital letters without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Registration authority codes (1st character, GB 32100-2015 table 1). The 2nd character's category
# tables change with new registries, so only the authority is checked.
USCC_AUTHORITIES = "123456789ANY"


def uscc_check_character(first17: str) -> str:
    """The 18th character of a code whose first 17 characters are given (GB 32100-2015, 4.5)."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: str) -> str:
    """Upper-case and strip spaces; people type codes in lower case and with spaces from letterheads."""
    return "".join((value or "").split()).upper()


def validate_uscc(value: str) -> None:
    """Raise ValidationError naming the exact problem with a unified social credit code."""
    code = normalize_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d."),
            code="uscc_length",
            params={"n": len(code)},
        )
    for position, ch in enumerate(code, start=1):
        if ch not in USCC_ALPHABET:
            raise ValidationError(
                _("Character %(ch)s at position %(pos)d is not allowed (letters I, O, Z, S, V never appear)."),
                code="uscc_character",
                params={"ch": ch, "pos": position},
            )
    if code[0] not in USCC_AUTHORITIES:
        raise ValidationError(
            _("%(ch)s is not a registration authority code; the first character is one of %(allowed)s."),
            code="uscc_authority",
            params={"ch": code[0], "allowed": USCC_AUTHORITIES},
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("Characters 3-8 must be the six-digit administrative division code."), code="uscc_region"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("The check character is wrong: expected %(expected)s, got %(got)s. Please check for a typo."),
            code="uscc_check",
            params={"expected": expected, "got": code[17]},
        )
