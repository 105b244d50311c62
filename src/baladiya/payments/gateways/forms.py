"""Forms of the finance officer's settlement page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.payments.gateways.registry import gateway_choices


def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


class SettlementQueryForm(forms.Form):
    gateway = forms.ChoiceField(label=_("Payment channel"), required=False)
    date = forms.DateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["gateway"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = gateway_choices()

    def gateway_name(self) -> str:
        chosen = self.cleaned_data.get("gateway") if self.is_valid() else ""
        return chosen or next(iter(dict(gateway_choices())), "")

    def day(self) -> dt.date:
        return (self.cleaned_data.get("date") if self.is_valid() else None) or yesterday()


class SettlementImportForm(forms.Form):
    gateway = forms.ChoiceField(label=_("Payment channel"))
    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.FileField(
        label=_("Settlement file (empty: fetch it from the gateway)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own element ids: the day's filter above it on the page has a channel and a day
        # too, and a label must point at its own field.
        kwargs.setdefault("auto_id", "import_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["gateway"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = gateway_choices()
