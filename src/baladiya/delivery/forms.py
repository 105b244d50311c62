"""The hand-over form: who collects the document and which identity document they show."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from baladiya.delivery.models import IdKind


class HandoverForm(forms.Form):
    RECIPIENT_CHOICES = (
        ("applicant", _("The applicant in person")),
        ("other", _("Someone else (representative)")),
    )

    recipient = forms.ChoiceField(
        label=_("Who collects the document?"),
        choices=RECIPIENT_CHOICES,
        initial="applicant",
        widget=forms.RadioSelect(attrs={"style": "min-width:0"}),
    )
    id_kind = forms.ChoiceField(
        label=_("Identity document shown"), choices=IdKind.choices, initial=IdKind.NATIONAL_ID
    )
    id_number = forms.CharField(
        label=_("Its number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "dir": "ltr", "inputmode": "text"}
        ),
    )
    recipient_name = forms.CharField(
        label=_("Name of the person collecting"),
        max_length=200,
        required=False,
        help_text=_("Needed when someone else collects; the applicant's name otherwise."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if (
            cleaned.get("recipient") == "other"
            and not (cleaned.get("recipient_name") or "").strip()
        ):
            self.add_error("recipient_name", _("Enter the name of the person collecting."))
        return cleaned

    @property
    def is_applicant(self) -> bool:
        return self.cleaned_data.get("recipient", "applicant") == "applicant"
