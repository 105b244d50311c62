"""Money is integer piastres: parsing what a cashier types, formatting, old-pound conversion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baladiya.core.money import (
    MoneyError,
    format_pounds,
    from_old_pounds,
    parse_pounds,
    to_latin_digits,
)


@pytest.mark.parametrize(
    ("text", "piastres"),
    [
        ("0", 0),
        ("50", 5_000),
        ("1250.5", 125_050),
        ("1,250.50", 125_050),
        ("1,250.00", 125_000),
        ("  7.05 ", 705),
        ("١٢٥٠٫٥٠", 125_050),  # Arabic-Indic digits and decimal separator
        ("١٬٢٥٠٫٥", 125_050),  # Arabic thousands separator
        ("۱۲۵۰", 125_000),  # Persian digits
        ("1.500", 150),  # trailing zeros are not extra precision
    ],
)
def test_parse_pounds_accepts(text: str, piastres: int) -> None:
    assert parse_pounds(text) == piastres


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "12a",
        "1.005",  # a third decimal: refuse rather than round
        "0.001",
        "-5",
        "-0.50",
        "NaN",
        "Infinity",
        "1e3",
        "1e999999999",
        "1_000",
        "+5",
        "5 000",
        "1.2.3",
        "٫",
        "1234567890123456",  # more pounds than any fee: a typo
    ],
)
def test_parse_pounds_refuses(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_pounds(text)


@pytest.mark.parametrize("value", [1.5, 1.005, 0.1 + 0.2, 50])
def test_parse_pounds_refuses_numbers_that_are_not_text(value: object) -> None:
    # A float has already lost the exact amount: only typed text is parsed.
    with pytest.raises(MoneyError):
        parse_pounds(value)  # type: ignore[arg-type]


def test_money_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_pounds("garbage")


@pytest.mark.parametrize(
    ("piastres", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (125_050, "1,250.50"),
        (500_000, "5,000.00"),
        (-705, "-7.05"),
        (123_456_789_00, "123,456,789.00"),
    ],
)
def test_format_pounds(piastres: int, text: str) -> None:
    assert format_pounds(piastres) == text


def test_from_old_pounds_published_fees() -> None:
    # 5,000 old pounds (criminal-record stamp) = 50 new pounds = 5,000 piastres.
    assert from_old_pounds(5_000) == 5_000
    assert from_old_pounds(200) == 200  # cleaning fee: 2 new pounds
    assert from_old_pounds(0) == 0


def test_to_latin_digits() -> None:
    assert to_latin_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_latin_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"


@given(st.integers(min_value=0, max_value=10**15))
def test_format_then_parse_round_trips(piastres: int) -> None:
    assert parse_pounds(format_pounds(piastres)) == piastres


@given(st.integers(min_value=0, max_value=10**15))
def test_round_trip_with_arabic_digits(piastres: int) -> None:
    arabic = format_pounds(piastres).translate(str.maketrans("0123456789,.", "٠١٢٣٤٥٦٧٨٩٬٫"))
    assert parse_pounds(arabic) == piastres


@given(st.text(max_size=30))
def test_parse_pounds_never_crashes_other_than_money_error(text: str) -> None:
    try:
        value = parse_pounds(text)
    except MoneyError:
        return
    assert isinstance(value, int)
    assert value >= 0
