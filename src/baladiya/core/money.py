"""Money is an integer number of piastres (1/100 new Syrian pound). Never a float."""

from __future__ import annotations

import re

CURRENCY = "SYP"
PIASTRES_PER_POUND = 100
OLD_POUNDS_PER_NEW = 100  # since 1 Jan 2026 one new pound = 100 old pounds


class MoneyError(ValueError):
    pass


def from_old_pounds(old_pounds: int) -> int:
    """Published fees are in old pounds: 5,000 old = 50 new pounds = 5,000 piastres."""
    return old_pounds * PIASTRES_PER_POUND // OLD_POUNDS_PER_NEW


def parse_pounds(text: str) -> int:
    """Parse `"1,250.50"` (new pounds, Arabic or Latin digits) into piastres; reject bad input.

    Only plain digits with an optional decimal part are accepted: no sign, exponent,
    underscore or NaN, and never more than two significant decimals (refuse, don't round).
    """
    if not isinstance(text, str):
        raise MoneyError(repr(text))  # a float has already lost the exact amount
    cleaned = to_latin_digits(text).replace(",", "").replace("٬", "").replace("٫", ".").strip()
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise MoneyError(text)
    whole, decimals = match.group(1), (match.group(2) or "").rstrip("0")
    if len(decimals) > 2:
        raise MoneyError(text)  # more than two decimals: ambiguous, refuse rather than round
    return int(whole) * PIASTRES_PER_POUND + int(decimals.ljust(2, "0"))


# At most 15 digits of pounds: far beyond any fee, well inside a 64-bit piastre amount.
_AMOUNT = re.compile(r"([0-9]{1,15})(?:\.([0-9]{0,12}))?", re.ASCII)


def format_pounds(piastres: int) -> str:
    """`500000` -> `5,000.00` (new pounds)."""
    sign = "-" if piastres < 0 else ""
    pounds, cents = divmod(abs(piastres), PIASTRES_PER_POUND)
    return f"{sign}{pounds:,}.{cents:02d}"


def to_latin_digits(text: str) -> str:
    return text.translate(ARABIC_DIGITS)


ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
