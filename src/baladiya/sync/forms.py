"""Forms of the directorate's sync pages. Required texts are checked by the services (one
clear message whether the field is empty or only spaces); the forms bound lengths."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from baladiya.sync.models import SyncConflict
from baladiya.sync.services import RESOLUTION_MAX

REASON_MAX = 200  # CenterNode.revoked_reason

OPEN, RESOLVED, ALL = "open", "resolved", "all"


class ConflictFilterForm(forms.Form):
    """Open conflicts by default: they are the work list."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[(OPEN, _("Open")), (RESOLVED, _("Resolved")), (ALL, _("All"))],
    )
    center = forms.ChoiceField(label=_("Center"), required=False)

    def __init__(self, *args: object, codes: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["center"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All centers")), *((c, c) for c in codes)]

    def values(self) -> tuple[str, str]:
        """(state, center code) to filter by; an unknown value counts as not given."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return str(data.get("state") or OPEN), str(data.get("center") or "")


def state_filter(state: str) -> dict[str, str]:
    return {} if state == ALL else {"state": SyncConflict.State(state).value}


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        max_length=RESOLUTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("What was done, by whom, and where the citizen's case stands now."),
    )


class RevokeForm(forms.Form):
    center = forms.CharField(max_length=8, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=REASON_MAX)
