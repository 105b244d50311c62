"""Validators for Syrian identifiers, with messages in the user's language."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from baladiya.core.money import to_latin_digits

# [0-9], not \d: \d also matches Devanagari and other digits, which would be stored as typed.
_NATIONAL = re.compile(r"[0-9]{11}")
_MOBILE = re.compile(r"\+9639[0-9]{8}")


def clean_national_number(value: str) -> str:
    """11 digits: 2 governorate + 2 registry office + 7 serial. Arabic digits accepted."""
    digits = to_latin_digits(str(value)).strip().replace(" ", "")
    if not _NATIONAL.fullmatch(digits):
        raise ValidationError(_("A national number is exactly 11 digits."), code="national_number")
    return digits


def clean_mobile(value: str) -> str:
    """Normalize `0944 123 456`, `00963944123456`, `+963 944 123 456` to `+963944123456`."""
    raw = re.sub(r"[\s\-()]", "", to_latin_digits(str(value)))
    if raw.startswith("00963"):
        raw = "+" + raw[2:]
    elif raw.startswith("09"):
        raw = "+963" + raw[1:]
    elif raw.startswith("963"):
        raw = "+" + raw
    if not _MOBILE.fullmatch(raw):
        raise ValidationError(
            _("Enter a Syrian mobile number such as +963 944 123 456."), code="mobile"
        )
    return raw


def validate_national_number(value: str) -> None:
    clean_national_number(value)


def validate_mobile(value: str) -> None:
    clean_mobile(value)
