"""Validation of a service's typed form fields (used by the counter, the portal and the API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from baladiya.catalog.models import FieldType, Service, ServiceField
from baladiya.core.money import to_latin_digits
from baladiya.core.text import join_list
from baladiya.core.validators import clean_mobile, clean_national_number


def clean_field(field: ServiceField, raw: Any) -> Any:
    """Return the cleaned value or raise ValidationError with a message in the user's language."""
    text = "" if raw is None else str(raw).strip()
    if text == "":
        if field.required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    if field.type == FieldType.NATIONAL_NUMBER:
        return clean_national_number(text)
    if field.type == FieldType.PHONE:
        return clean_mobile(text)
    if field.type == FieldType.DATE:
        try:
            value = dt.date.fromisoformat(to_latin_digits(text))
        except ValueError as exc:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="date") from exc
        if value.year < 1900 or value > dt.date.today() + dt.timedelta(days=3650):
            raise ValidationError(_("This date is out of range."), code="date_range")
        return value.isoformat()
    if field.type == FieldType.NUMBER:
        digits = to_latin_digits(text)
        if not digits.isdigit() or len(digits) > 12:
            raise ValidationError(_("Enter a whole number."), code="number")
        return int(digits)
    if field.type == FieldType.CHOICE:
        if text not in [str(c) for c in field.choices]:
            raise ValidationError(_("Choose one of the listed options."), code="choice")
        return text
    if len(text) > 500:
        raise ValidationError(_("This text is too long (500 characters at most)."), code="long")
    return text


def clean_field_values(service: Service, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate every field of `service`; collect all errors at once (field name -> message)."""
    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, Any] = {}
    fields = list(service.fields.all())  # one query (unless prefetched)
    for field in fields:
        try:
            cleaned[field.name] = clean_field(field, raw.get(field.name))
        except ValidationError as exc:
            errors[field.name] = [exc]
    unknown = set(raw) - {f.name for f in fields}
    if unknown:
        errors["__all__"] = [
            ValidationError(_("Unknown fields: %(names)s") % {"names": join_list(sorted(unknown))})
        ]
    if errors:
        raise ValidationError(errors)
    return cleaned
