"""catalog.forms: each field type's validation, messages, and collecting every error at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from baladiya.catalog.forms import clean_field, clean_field_values
from baladiya.catalog.models import FieldType, Service, ServiceField

pytestmark = pytest.mark.django_db


def _field(kind: str, required: bool = True, **extra: Any) -> ServiceField:
    return ServiceField(name="f", label_ar="f", label_en="f", type=kind, required=required, **extra)


@pytest.mark.parametrize(
    ("kind", "raw", "expected", "extra"),
    [
        (FieldType.TEXT, "  جهة عامة  ", "جهة عامة", {}),
        (FieldType.NATIONAL_NUMBER, "٠٤٠١٢٣٤٥٦٧٨", "04012345678", {}),
        (FieldType.NATIONAL_NUMBER, "040 1234 5678", "04012345678", {}),
        (FieldType.PHONE, "0944 123 456", "+963944123456", {}),
        (FieldType.PHONE, "00963944123456", "+963944123456", {}),
        (FieldType.DATE, "2025-12-31", "2025-12-31", {}),
        (FieldType.DATE, "٢٠٢٥-١٢-٣١", "2025-12-31", {}),
        (FieldType.NUMBER, "١٢", 12, {}),
        (FieldType.CHOICE, "ب", "ب", {"choices": ["أ", "ب"]}),
    ],
)
def test_valid_values_are_cleaned(
    kind: str, raw: str, expected: Any, extra: dict[str, Any]
) -> None:
    assert clean_field(_field(kind, **extra), raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "code", "extra"),
    [
        (FieldType.TEXT, "", "required", {}),
        (FieldType.TEXT, "x" * 501, "long", {}),
        (FieldType.NATIONAL_NUMBER, "1234567890", "national_number", {}),
        (FieldType.PHONE, "0311234567", "mobile", {}),
        (FieldType.DATE, "31/12/2025", "date", {}),
        (FieldType.DATE, "1850-01-01", "date_range", {}),
        (FieldType.NUMBER, "-3", "number", {}),
        (FieldType.NUMBER, "1.5", "number", {}),
        (FieldType.NUMBER, "1" * 13, "number", {}),
        (FieldType.CHOICE, "ج", "choice", {"choices": ["أ", "ب"]}),
    ],
)
def test_invalid_values_are_refused_with_a_code(
    kind: str, raw: str, code: str, extra: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as info:
        clean_field(_field(kind, **extra), raw)
    assert info.value.code == code


def test_optional_empty_is_none() -> None:
    assert clean_field(_field(FieldType.NUMBER, required=False), "  ") is None
    assert clean_field(_field(FieldType.DATE, required=False), None) is None


def test_messages_follow_the_language() -> None:
    with translation.override("en"), pytest.raises(ValidationError) as info:
        clean_field(_field(FieldType.DATE), "tomorrow")
    assert info.value.messages == ["Enter a date as YYYY-MM-DD."]


def test_all_errors_collected_at_once_and_unknown_fields_refused(service: Service) -> None:
    ServiceField.objects.create(
        service=service, name="copies", label_ar="عدد", label_en="Copies", type=FieldType.NUMBER
    )
    with translation.override("en"), pytest.raises(ValidationError) as info:
        clean_field_values(service, {"purpose": "", "copies": "x", "hack": "1"})
    errors = info.value.message_dict
    assert set(errors) == {"purpose", "copies", "__all__"}
    assert errors["__all__"] == ["Unknown fields: hack"]


def test_clean_values(service: Service) -> None:
    assert clean_field_values(service, {"purpose": " بنك "}) == {"purpose": "بنك"}
