"""Counter forms: register a citizen, apply for a service (typed fields built from the catalog).

The service's own fields are validated by `catalog.forms.clean_field_values` (the same rules
as the portal and the API); uploads by `core.uploads.check_upload` (content, not name), for a
new application and for a corrected one (`check_attachments`). All
errors are collected at once and shown next to their fields; nothing is created until the
whole form is valid.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.applications.workflow import Status
from baladiya.catalog.forms import clean_field_values
from baladiya.catalog.models import DeliveryMode, FieldType, Service, ServiceField
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError
from baladiya.core.uploads import CheckedUpload, check_upload
from baladiya.core.validators import clean_mobile, clean_national_number

FIELD_PREFIX = "f_"
FILE_PREFIX = "att_"
ACCEPTED_FILES = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
_TOKEN = re.compile(r"[0-9a-f]{32}")
# A known extension that contradicts the content (a PNG named .pdf) is refused: the file is
# not what the clerk thinks it is. Files without a known extension are judged by content only.
_EXTENSIONS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
}
_TYPE_NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}


def new_token() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- citizens


class CitizenForm(forms.Form):
    national_number = forms.CharField(
        label=_("National number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("11 digits"),
    )
    first_name = forms.CharField(label=_("First name"), max_length=60)
    father_name = forms.CharField(label=_("Father's name"), max_length=60, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=60)
    mother_name = forms.CharField(label=_("Mother's name"), max_length=120, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    phone = forms.CharField(
        label=_("Mobile"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+963 9XX XXX XXX"}),
    )

    def clean_national_number(self) -> str:
        return clean_national_number(self.cleaned_data["national_number"])

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data.get("phone") or ""
        return clean_mobile(phone) if phone.strip() else ""

    def clean_birth_date(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("birth_date")
        if day is not None and (day.year < 1900 or day > timezone.localdate()):
            raise ValidationError(_("This date is out of range."), code="date_range")
        return day


# ---------------------------------------------------------------- service fields


def _widget_for(field: ServiceField, language: str) -> forms.Widget:
    attrs: dict[str, Any] = {}
    if field.required:
        attrs["required"] = True
    if field.type == FieldType.DATE:
        return forms.TextInput(attrs={**attrs, "type": "date"})
    if field.type == FieldType.PHONE:
        return forms.TextInput(attrs={**attrs, "type": "tel", "placeholder": "+963 9XX XXX XXX"})
    if field.type in (FieldType.NATIONAL_NUMBER, FieldType.NUMBER):
        # Not type=number: that refuses Arabic-Indic digits, which the validators accept.
        extra = {"maxlength": 20} if field.type == FieldType.NATIONAL_NUMBER else {}
        return forms.TextInput(attrs={**attrs, **extra, "inputmode": "numeric"})
    if field.type == FieldType.CHOICE:
        options = [("", "—")] + [(str(c), str(c)) for c in field.choices]
        return forms.Select(attrs=attrs, choices=options)
    return forms.TextInput(attrs={**attrs, "maxlength": 500})


def add_service_fields(form: forms.Form, service: Service, language: str) -> None:
    """One form field per ServiceField, prefixed so they never clash with the form's own."""
    for field in service.fields.all():
        form.fields[FIELD_PREFIX + field.name] = forms.CharField(
            label=field.label(language),
            required=False,  # `clean_field_values` decides, with the catalog's messages
            strip=True,
            widget=_widget_for(field, language),
        )


def check_service_fields(form: forms.Form, service: Service) -> dict[str, Any] | None:
    """Run the catalog's validation; put each message next to its field. None on errors."""
    raw = {f.name: form.cleaned_data.get(FIELD_PREFIX + f.name, "") for f in service.fields.all()}
    try:
        return clean_field_values(service, raw)
    except ValidationError as exc:
        for name, errors in exc.error_dict.items():
            target = None if name == "__all__" else FIELD_PREFIX + name
            if target is not None and target not in form.fields:
                target = None
            for error in errors:
                form.add_error(target, error)
        return None


def add_attachment_fields(
    form: forms.Form, service: Service, language: str, *, replacing: bool = False
) -> None:
    """One file field per paper of the service. `replacing` (a correction): every one is
    optional, an empty one keeps the paper already attached."""
    for att in service.attachments.all():
        required = att.required and not replacing
        form.fields[FILE_PREFIX + att.code] = forms.FileField(
            label=(
                _("New copy: %(paper)s") % {"paper": att.label(language)}
                if replacing
                else att.label(language)
            ),
            required=False,  # checked by `check_attachments` with a clearer message
            widget=forms.FileInput(
                attrs={"accept": ACCEPTED_FILES, **({"required": True} if required else {})}
            ),
            help_text=(
                _("PDF, PNG or JPEG. Leave empty to keep the current one.")
                if replacing
                else _("PDF, PNG or JPEG")
            ),
        )


def check_attachments(
    form: forms.Form, service: Service, *, require: bool = True
) -> dict[str, CheckedUpload]:
    """Check every uploaded paper by content, size and name (`core.uploads.check_upload`);
    put each message next to its field. `require`: a required paper must be attached."""
    uploads: dict[str, CheckedUpload] = {}
    for att in service.attachments.all():
        name = FILE_PREFIX + att.code
        upload = form.files.get(name)
        if not isinstance(upload, UploadedFile):
            if att.required and require:
                form.add_error(name, _("Attach this document (PDF, PNG or JPEG)."))
            continue
        try:
            checked = check_upload(upload)
        except DomainError as exc:
            form.add_error(name, str(exc.message))
            continue
        claimed = _EXTENSIONS.get((upload.name or "").rsplit(".", 1)[-1].lower())
        if claimed is not None and claimed != checked.content_type:
            form.add_error(
                name,
                _(
                    "The file is named as a %(named)s but its content is a %(actual)s. "
                    "Scan or save it again."
                )
                % {"named": _TYPE_NAMES[claimed], "actual": _TYPE_NAMES[checked.content_type]},
            )
            continue
        uploads[att.code] = checked
    return uploads


def field_values_for_form(service: Service, values: dict[str, Any]) -> dict[str, str]:
    return {
        FIELD_PREFIX + f.name: "" if values.get(f.name) is None else str(values[f.name])
        for f in service.fields.all()
    }


# ---------------------------------------------------------------- new application


class CenterChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """`C03 — name` in the user's language."""

    language = "ar"

    def label_from_instance(self, obj: Center) -> str:
        return f"{obj.code} — {obj.display_name(self.language)}"


class ServiceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    language = "ar"

    def label_from_instance(self, obj: Service) -> str:
        return obj.name(self.language)


class ApplicationForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    delivery_mode = forms.ChoiceField(label=_("Delivery mode"), widget=forms.RadioSelect)
    pickup_center = CenterChoiceField(
        label=_("Pickup center"), queryset=Center.objects.none(), required=False
    )
    address_line = forms.CharField(
        label=_("Postal address (street, building)"), max_length=200, required=False
    )
    address_neighbourhood = forms.CharField(
        label=_("Neighbourhood"), max_length=120, required=False
    )
    address_phone = forms.CharField(
        label=_("Mobile for the postman"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, service: Service, home_center: Center | None, language: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.service = service
        self.language = language
        self.field_values: dict[str, Any] = {}
        self.uploads: dict[str, CheckedUpload] = {}
        modes = [m for m in DeliveryMode if m.value in (service.delivery_modes or [])]
        mode_field = self.fields["delivery_mode"]
        assert isinstance(mode_field, forms.ChoiceField)
        mode_field.choices = [(m.value, m.label) for m in modes]
        if modes:
            mode_field.initial = (
                DeliveryMode.PICKUP if DeliveryMode.PICKUP in modes else modes[0].value
            )
        pickup = self.fields["pickup_center"]
        assert isinstance(pickup, CenterChoiceField)
        pickup.queryset = Center.objects.filter(accepts_pickup=True, active=True).order_by("code")
        pickup.language = language
        if home_center is not None and home_center.accepts_pickup:
            pickup.initial = home_center.pk
        add_service_fields(self, service, language)
        add_attachment_fields(self, service, language)

    def service_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(FIELD_PREFIX)]

    def file_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(FILE_PREFIX)]

    def delivery_fields(self) -> list[forms.BoundField]:
        names = ("pickup_center", "address_line", "address_neighbourhood", "address_phone")
        return [self[name] for name in names]

    def clean_token(self) -> str:
        token: str = self.cleaned_data.get("token") or ""
        if not _TOKEN.fullmatch(token):
            raise ValidationError(
                _("This form has expired. Check the values and submit it again."), code="token"
            )
        return token

    def clean_address_phone(self) -> str:
        phone: str = self.cleaned_data.get("address_phone") or ""
        return clean_mobile(phone) if phone.strip() else ""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        mode = cleaned.get("delivery_mode")
        if mode == DeliveryMode.PICKUP and not cleaned.get("pickup_center"):
            self.add_error("pickup_center", _("Choose the center where it will be picked up."))
        if mode == DeliveryMode.POST and not (cleaned.get("address_line") or "").strip():
            self.add_error("address_line", _("A postal address is required for delivery by post."))
        values = check_service_fields(self, self.service)
        if values is not None:
            self.field_values = values
        self._check_files()
        return cleaned

    def _check_files(self) -> None:
        self.uploads = check_attachments(self, self.service)

    def delivery_address(self) -> dict[str, str]:
        if self.cleaned_data.get("delivery_mode") != DeliveryMode.POST:
            return {}
        address = {
            "line": self.cleaned_data.get("address_line", "").strip(),
            "neighbourhood": self.cleaned_data.get("address_neighbourhood", "").strip(),
            "phone": self.cleaned_data.get("address_phone", ""),
        }
        return {k: v for k, v in address.items() if v}


class ResubmitForm(forms.Form):
    """A returned application, corrected: the service's fields again, a new copy of any of
    its papers (optional, checked like a new application's) and a note. Used at the counter
    and in the citizen portal."""

    note = forms.CharField(
        label=_("What was corrected"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, service: Service, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service = service
        self.field_values: dict[str, Any] = {}
        self.uploads: dict[str, CheckedUpload] = {}
        add_service_fields(self, service, language)
        add_attachment_fields(self, service, language, replacing=True)

    def service_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(FIELD_PREFIX)]

    def file_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(FILE_PREFIX)]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        values = check_service_fields(self, self.service)
        if values is not None:
            self.field_values = values
        self.uploads = check_attachments(self, self.service, require=False)
        return cleaned


# ---------------------------------------------------------------- supervisor filters


class QueueFilterForm(forms.Form):
    center = CenterChoiceField(label=_("Center"), queryset=Center.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    service = ServiceChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: Any, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        centers = Center.objects.order_by("code")
        if not user.has_role(roles.ADMIN, roles.AUDITOR) and user.center_id is not None:
            centers = centers.filter(pk=user.center_id)
        center_field = self.fields["center"]
        assert isinstance(center_field, CenterChoiceField)
        center_field.queryset = centers
        center_field.language = language
        service_field = self.fields["service"]
        assert isinstance(service_field, ServiceChoiceField)
        service_field.queryset = Service.objects.order_by("code")
        service_field.language = language
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [("", _("All")), *Status.choices]
