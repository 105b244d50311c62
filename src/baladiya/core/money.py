"""Money is an integer number of piastres (1/100 new Syrian pound). Never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY = "SYP"
PIASTRES_PER_POUND = 100
OLD_POUNDS_PER_NEW = 100  # since 1 Jan 2026 one new pound = 100 old pounds


class MoneyError(ValueError):
    pass


def from_old_pounds(old_pounds: int) -> int:
    """Published fees are in old pounds: 5,000 old = 50 new pounds = 5,000 piastres."""
    return old_pounds * PIASTRES_PER_POUND // OLD_POUNDS_PER_NEW


def parse_pounds(text: str) -> int:
    """Parse `"1,250.50"` (new pounds, Arabic or Latin digits) into piastres; reject bad input."""
    cleaned = to_latin_digits(text).replace(",", "").replace("٬", "").replace("٫", ".").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise MoneyError(text) from exc
    if not value.is_finite() or value < 0:
        raise MoneyError(text)
    piastres = (value * PIASTRES_PER_POUND).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if piastres != value * PIASTRES_PER_POUND:
        raise MoneyError(text)  # more than two decimals: ambiguous, refuse rather than round
    return int(piastres)


def format_pounds(piastres: int) -> str:
    """`500000` -> `5,000.00` (new pounds)."""
    sign = "-" if piastres < 0 else ""
    pounds, cents = divmod(abs(piastres), PIASTRES_PER_POUND)
    return f"{sign}{pounds:,}.{cents:02d}"


def to_latin_digits(text: str) -> str:
    return text.translate(ARABIC_DIGITS)


ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
