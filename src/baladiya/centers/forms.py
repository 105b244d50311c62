"""Forms of the directorate's status page and of the support tickets (bounds as the services
check them, so a bad value is a form error next to its field, in the user's language)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from baladiya.centers.models import Outage, SupportTicket
from baladiya.centers.tickets import BODY_MAX, SUBJECT_MAX

NOTE_MAX = 2000


class OutageForm(forms.Form):
    cause = forms.ChoiceField(label=_("Cause"), choices=Outage.Cause.choices)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("What happened, who was called, what was done."),
    )


class OutageFilterForm(forms.Form):
    center = forms.ChoiceField(label=_("Center"), required=False)

    def __init__(self, *args: object, codes: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["center"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All centers")), *((c, c) for c in codes)]

    def code(self) -> str:
        return str(self.cleaned_data.get("center") or "") if self.is_valid() else ""


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX)
    body = forms.CharField(
        label=_("Message"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text=_("What does not work, since when, what you already tried."),
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *SupportTicket.Status.choices],
    )
