"""Field inspections from the application page (new water meters): schedule a visit, record
its result. The panel with these forms is part of the application detail page
(`water.meter_hooks`, templates `water/meters/_*.html`); these views only take its POSTs and
go back to the page with a message. Every write is a function of `applications.inspections`.

An application the user may not see is a 404, a role or center that may not act a 403, a
refused step (wrong state, a visit already waiting, a meter number taken) a message on the
application page; nothing is changed then.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from baladiya.accounts.models import User
from baladiya.accounts.permissions import staff_can_view_application
from baladiya.applications import inspections
from baladiya.applications.models import Application, InspectionVisit
from baladiya.applications.views import staff_view
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.money import to_latin_digits


class ScheduleForm(forms.Form):
    scheduled_for = forms.DateField(label=gettext_lazy("Visit date"))
    inspector = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        label=gettext_lazy("Inspector (staff)"),
    )
    inspector_name = forms.CharField(
        max_length=150, required=False, label=gettext_lazy("or the inspector's name")
    )

    def __init__(self, data: Any) -> None:
        data = data.copy()
        data["scheduled_for"] = to_latin_digits(data.get("scheduled_for", ""))
        super().__init__(data)


class RecordForm(forms.Form):
    result = forms.ChoiceField(
        choices=[
            (InspectionVisit.Result.PASSED, InspectionVisit.Result.PASSED.label),
            (InspectionVisit.Result.FAILED, InspectionVisit.Result.FAILED.label),
        ],
        label=gettext_lazy("Result"),
    )
    notes = forms.CharField(max_length=2000, required=False, label=gettext_lazy("Notes"))
    meter_number = forms.CharField(
        max_length=40, required=False, label=gettext_lazy("Meter number installed")
    )


def _application(user: User, reference: str) -> Application:
    app = (
        Application.objects.select_related("service", "service__agency", "applicant", "center")
        .filter(reference=reference.upper())
        .first()
    )
    if app is None or not staff_can_view_application(user, app):
        raise Http404  # another center's record: do not reveal that it exists
    return app


def _back(app: Application) -> HttpResponse:
    return redirect(reverse("applications:detail", args=[app.reference]) + "#inspection")


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


@staff_view
@require_POST
def schedule(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    app = _application(user, reference)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(app)
    data = form.cleaned_data
    try:
        visit = inspections.schedule_inspection(
            app,
            user,
            data["scheduled_for"],
            inspector=data.get("inspector"),
            inspector_name=data.get("inspector_name") or "",
        )
    except NotAllowed as exc:
        return _forbidden(request, str(exc.message))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _back(app)
    messages.success(
        request,
        _("Field visit scheduled on %(day)s (%(inspector)s).")
        % {"day": visit.scheduled_for.isoformat(), "inspector": visit.inspector_name},
    )
    return _back(app)


@staff_view
@require_POST
def record(request: HttpRequest, user: User, reference: str, pk: Any) -> HttpResponse:
    app = _application(user, reference)
    visit = InspectionVisit.objects.filter(pk=pk, application=app).first()
    if visit is None:
        raise Http404
    visit.application = app
    form = RecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(app)
    data = form.cleaned_data
    try:
        inspections.record_inspection(
            visit,
            user,
            data["result"],
            data.get("notes") or "",
            meter_number=data.get("meter_number") or "",
        )
    except NotAllowed as exc:
        return _forbidden(request, str(exc.message))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _back(app)
    if visit.result == InspectionVisit.Result.PASSED:
        text = _("Inspection passed.")
        if visit.meter_number:
            text += " " + _("Meter number %(meter)s recorded: the application can be approved.") % {
                "meter": visit.meter_number
            }
    else:
        text = _("Inspection failed: return the application for correction or reject it.")
    messages.success(request, text)
    return _back(app)
