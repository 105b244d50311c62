"""Forms of the cash desk: amounts are typed in pounds and parsed to integer piastres."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.core.ids import uuid7
from baladiya.core.money import MoneyError, parse_pounds


class PoundsField(forms.CharField):
    """`1,250.50` (Latin or Arabic digits) -> 125050 piastres; refuses more than 2 decimals."""

    def __init__(self, *, autofocus: bool = False, **kwargs: Any) -> None:
        attrs = {"inputmode": "decimal", "autocomplete": "off", "dir": "ltr", "size": "12"}
        if autofocus:
            attrs["autofocus"] = "autofocus"
        kwargs.setdefault("max_length", 24)
        super().__init__(widget=forms.TextInput(attrs=attrs), **kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)  # required / max length checked on the text
        if text in self.empty_values:
            return None
        try:
            return parse_pounds(text)
        except MoneyError:
            raise forms.ValidationError(
                _("Enter an amount in pounds, for example 500 or 1,250.50."), code="amount"
            ) from None


def new_form_token() -> str:
    """A one-time token put in each money form: a double submit replays, never repeats."""
    return str(uuid7())


class TokenForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80, required=False)


class OpenSessionForm(forms.Form):
    opening_float = PoundsField(label=_("Opening float (SYP)"), autofocus=True)


class CloseSessionForm(forms.Form):
    counted_cash = PoundsField(label=_("Cash counted in the drawer (SYP)"), autofocus=True)


class RefundForm(TokenForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=250,
        widget=forms.TextInput(attrs={"size": "40", "autocomplete": "off"}),
    )
    amount = PoundsField(
        label=_("Amount to refund (SYP, empty = all that is left)"), required=False
    )
    cancel_application = forms.BooleanField(
        label=_("Also cancel the application (refunds all that is left)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"style": "min-width:0"}),
    )


class ReconciliationForm(forms.Form):
    center = forms.CharField(label=_("Center"), required=False, max_length=8)
    date = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def day(self) -> Any:
        return (self.cleaned_data.get("date") if self.is_valid() else None) or (
            timezone.localdate()
        )
