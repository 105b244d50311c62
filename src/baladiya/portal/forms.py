"""Portal forms: login by mobile and code, the profile, applying online, the status lookup.

Applying reuses the counter's form (`applications.forms.ApplicationForm`): the same typed
fields validated by the catalog, the same upload checks (content, size, extension), the same
one-time token against double submission. The portal narrows the delivery part: a pickup
center chosen from those that hand documents over, or the post with a full address.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from baladiya.applications.forms import ApplicationForm, CenterChoiceField, CitizenForm
from baladiya.catalog.models import DeliveryMode, Service
from baladiya.centers.models import Neighbourhood
from baladiya.core.money import to_latin_digits
from baladiya.core.validators import clean_mobile
from baladiya.portal import services


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=24,
        help_text=_("A Syrian mobile number, such as 0944 123 456."),
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "tel",
                "inputmode": "tel",
                "placeholder": "09XX XXX XXX",
                "autofocus": True,
            }
        ),
    )

    def clean_phone(self) -> str:
        return clean_mobile(self.cleaned_data["phone"])


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code received by SMS"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
                "dir": "ltr",
            }
        ),
    )


class ProfileForm(CitizenForm):
    """The counter's citizen form without the mobile: the verified number is used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["phone"]


class TrackForm(forms.Form):
    reference = forms.CharField(
        label=_("Application reference"),
        max_length=24,
        widget=forms.TextInput(attrs={"placeholder": "C00-26-000123", "dir": "ltr"}),
    )
    phone = forms.CharField(
        label=_("Mobile number given with the application"),
        max_length=24,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean_reference(self) -> str:
        return to_latin_digits(self.cleaned_data["reference"]).strip().upper()

    def clean_phone(self) -> str:
        try:
            return clean_mobile(self.cleaned_data["phone"])
        except ValidationError:
            # Not a mobile number: it cannot match, but the answer must stay the same as
            # for a wrong one, so the lookup runs (and counts) anyway.
            return str(self.cleaned_data["phone"])[:24]


class NeighbourhoodField(forms.ModelChoiceField):  # type: ignore[type-arg]
    language = "ar"

    def label_from_instance(self, obj: Neighbourhood) -> str:
        return obj.name_en if self.language == "en" else obj.name_ar


class PortalApplicationForm(ApplicationForm):
    # A list of the city's neighbourhoods instead of the counter's free text.
    address_neighbourhood = NeighbourhoodField(  # type: ignore[assignment]
        label=_("Neighbourhood"), queryset=Neighbourhood.objects.none(), required=False
    )

    def __init__(
        self, *args: Any, service: Service, phone: str, language: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, service=service, home_center=None, language=language, **kwargs)
        del self.fields["note"]  # the counter's internal note
        pickup = self.fields["pickup_center"]
        assert isinstance(pickup, CenterChoiceField)
        pickup.queryset = services.pickup_centers()
        pickup.empty_label = "—"
        area = self.fields["address_neighbourhood"]
        assert isinstance(area, NeighbourhoodField)
        area.queryset = Neighbourhood.objects.order_by("name_ar")
        area.language = language
        self.fields["address_phone"].initial = phone
        self.fields["address_phone"].label = _("Mobile for the postman")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("delivery_mode") == DeliveryMode.POST:
            if not cleaned.get("address_neighbourhood") and "address_neighbourhood" not in (
                self.errors
            ):
                self.add_error("address_neighbourhood", _("Choose your neighbourhood."))
            if not cleaned.get("address_phone") and "address_phone" not in self.errors:
                self.add_error("address_phone", _("Enter a mobile number for the postman."))
        return cleaned

    def delivery_address(self) -> dict[str, str]:
        """`{"line", "neighbourhood" (Arabic name), "neighbourhood_id", "phone"}` for post."""
        if self.cleaned_data.get("delivery_mode") != DeliveryMode.POST:
            return {}
        area: Neighbourhood = self.cleaned_data["address_neighbourhood"]
        return {
            "line": self.cleaned_data.get("address_line", "").strip(),
            "neighbourhood": area.name_ar,
            "neighbourhood_id": str(area.pk),
            "phone": self.cleaned_data.get("address_phone", ""),
        }


class CancelForm(forms.Form):
    """The citizen cancels their own application: the reason goes into its history."""

    reason = forms.CharField(
        label=_("Why do you cancel it?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
