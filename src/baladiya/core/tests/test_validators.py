"""Syrian identifiers typed at the counter: national numbers and mobile numbers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from baladiya.core.validators import (
    clean_mobile,
    clean_national_number,
    validate_mobile,
    validate_national_number,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("04012345678", "04012345678"),
        (" 04012345678 ", "04012345678"),
        ("040 1234 5678", "04012345678"),
        ("٠٤٠١٢٣٤٥٦٧٨", "04012345678"),  # Arabic-Indic digits
        ("۰۴۰۱۲۳۴۵۶۷۸", "04012345678"),  # Persian digits
    ],
)
def test_national_number_accepted(raw: str, clean: str) -> None:
    assert clean_national_number(raw) == clean
    validate_national_number(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0401234567",  # 10 digits
        "040123456789",  # 12 digits
        "0401234567a",
        "04012345678\n9",
        "+4012345678",
        "०४०१२३४५६७८",  # Devanagari digits are not national-number digits
    ],
)
def test_national_number_refused_with_message(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        clean_national_number(raw)
    assert info.value.code == "national_number"
    with translation.override("en"):
        assert "11 digits" in info.value.messages[0]


@pytest.mark.parametrize(
    "raw",
    [
        "0944123456",
        "0944 123 456",
        "0944-123-456",
        "00963944123456",
        "00963 944 123 456",
        "+963944123456",
        "+963 944 123 456",
        "+963 (944) 123-456",
        "963944123456",
        "٠٩٤٤١٢٣٤٥٦",
        "+٩٦٣٩٤٤١٢٣٤٥٦",
    ],
)
def test_mobile_forms_normalized(raw: str) -> None:
    assert clean_mobile(raw) == "+963944123456"
    validate_mobile(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0114123456",  # a Damascus landline, not a mobile
        "094412345",  # too short
        "09441234567",  # too long
        "+962791234567",  # Jordan
        "+9639441234ab",
        "+963९४४१२३४५६",  # Devanagari digits
        "+9639४४१२३४५६",
        "not a number",
    ],
)
def test_mobile_refused_with_message(raw: str) -> None:
    with pytest.raises(ValidationError) as info:
        clean_mobile(raw)
    assert info.value.code == "mobile"
    with translation.override("en"):
        assert "Syrian mobile number" in info.value.messages[0]
