"""Pages for the exchange with the water establishment and the water collection reports.

- Imports (`/water/exchange/`): a directorate officer (or an officer of the water
  establishment's agency, `collections.may_exchange`) uploads a subscribers, readings or bills
  file (CSV or XLSX), sees what became of each row, lists past imports and downloads a
  file's error report. Everyone else gets the 403 page.
- Collections (`/water/exchange/collections/`): water bills paid per center for a day and
  its month, with bar charts drawn on the server (no script, no outside asset); the
  directorate, auditors and supervisors (a supervisor of a center sees that center only, as
  in the daily reconciliation). Those who exchange files also download the day's
  collections file and send it to the establishment from here.

Views parse, authorize and render; every write is `importing.import_file` or
`collections.send_collections`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.water import collections, importing
from baladiya.water.models import CollectionExport, ImportBatch

ISSUES_SHOWN = 200
IMPORTS_LISTED = 50


# ---------------------------------------------------------------- forms


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of file"), choices=ImportBatch.Kind.choices)
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    force = forms.BooleanField(
        label=gettext_lazy("Read it again even if this very file was imported before"),
        required=False,
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = importing.max_upload_bytes()
        if upload.size is None or upload.size > limit:
            raise forms.ValidationError(
                gettext_lazy("The file is too large (at most %(size)s): import it with the "
                             "command line (baladiya water import).")
                % {"size": filesizeformat(limit)}
            )  # fmt: skip
        return upload


class DayForm(forms.Form):
    date = forms.DateField(
        label=gettext_lazy("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    center = forms.CharField(label=gettext_lazy("Center"), required=False, max_length=8)

    def day(self) -> dt.date:
        found = self.cleaned_data.get("date") if self.is_valid() else None
        return found or timezone.localdate()

    def code(self) -> str:
        return str((self.cleaned_data.get("center") if self.is_valid() else "") or "").upper()


def _exchanger(request: HttpRequest) -> Any:
    if not collections.may_exchange(request.user):
        raise NotAllowed(_("Only the directorate exchanges files with the water establishment."))
    return request.user


# ---------------------------------------------------------------- imports


@login_required
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    user = _exchanger(request)
    form = ImportForm()
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload: UploadedFile = form.cleaned_data["file"]
            upload.seek(0)
            try:
                batch = importing.import_file(
                    upload.read(importing.max_upload_bytes() + 1),
                    upload.name or "file",
                    form.cleaned_data["kind"],
                    user,
                    source=ImportBatch.Source.UPLOAD,
                    force=form.cleaned_data["force"],
                )
            except DomainError as exc:
                form.add_error("file", str(exc.message))
                status = 400
            else:
                return redirect("water:exchange_import", pk=batch.pk)
        else:
            status = 400
    batches = ImportBatch.objects.select_related("same_as")[:IMPORTS_LISTED]
    return render(
        request,
        "water/exchange/imports.html",
        {"form": form, "batches": batches, "limit": importing.max_upload_bytes()},
        status=status,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    _exchanger(request)
    batch = get_object_or_404(ImportBatch.objects.select_related("same_as"), pk=pk)
    issues = [
        (issue, importing.issue_message(issue))
        for issue in batch.issues.order_by("row", "id")[:ISSUES_SHOWN]
    ]
    return render(
        request,
        "water/exchange/import_detail.html",
        {"batch": batch, "issues": issues, "more": max(batch.issues.count() - ISSUES_SHOWN, 0)},
    )


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: uuid.UUID) -> StreamingHttpResponse:
    """The refused rows as CSV (UTF-8 with BOM: Excel shows the Arabic)."""
    _exchanger(request)
    batch = get_object_or_404(ImportBatch, pk=pk)
    response = StreamingHttpResponse(
        importing.error_report_lines(batch), content_type="text/csv; charset=utf-8"
    )
    name = f"water-{batch.kind}-{timezone.localtime(batch.created_at):%Y%m%d-%H%M}-errors.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- collections


@login_required
@require_GET
def collections_report(request: HttpRequest) -> HttpResponse:
    allowed = collections.report_centers(request.user)
    if not allowed:
        raise NotAllowed(_("Your role does not show water collections."))
    form = DayForm(request.GET or None)
    day, code = form.day(), form.code()
    shown = allowed
    if code:
        shown = [c for c in allowed if c.code == code]
        if not shown:
            if Center.objects.filter(code=code).exists():
                raise NotAllowed(_("You may only see your own center's collections."))
            raise Http404
    first, last = collections.month_bounds(day)
    today = collections.by_center(shown, day, day)
    month = collections.by_center(shown, first, last)
    days = collections.by_day(shown, first, last)
    may_exchange = collections.may_exchange(request.user)
    context: dict[str, Any] = {
        "form": form,
        "day": day,
        "code": code,
        "centers": allowed,
        "all_allowed": len(allowed) > 1,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "month_first": first,
        "today": _bars(today),
        "month": _bars(month),
        "today_total": _sum(today),
        "month_total": _sum(month),
        "chart": day_chart(days, day),
        "may_exchange": may_exchange,
        "exports": CollectionExport.objects.filter(day=day)[:10] if may_exchange else [],
    }
    return render(request, "water/exchange/collections.html", context)


def _sum(totals: list[collections.CenterTotal]) -> dict[str, int]:
    return {
        "receipts": sum(t.receipts for t in totals),
        "bills": sum(t.bills for t in totals),
        "amount": sum(t.amount for t in totals),
        "overpayment": sum(t.overpayment for t in totals),
    }


def _bars(totals: list[collections.CenterTotal]) -> list[dict[str, Any]]:
    """Each center with its bar's length in percent of the largest amount (HTML/CSS bars)."""
    top = max((t.amount for t in totals), default=0) or 1
    return [{"t": t, "percent": round(100 * t.amount / top, 1)} for t in totals]


def day_chart(days: list[collections.DayTotal], chosen: dt.date, height: int = 140) -> Any:
    """Geometry of an inline SVG bar chart of the month's collections (amount) per day."""
    top = max((d.amount for d in days), default=0) or 1
    slot, width, base = 22, 16, height - 20
    bars = []
    for i, d in enumerate(days):
        h = round((base - 10) * d.amount / top) if d.amount else 0
        bars.append(
            {
                "x": 6 + i * slot,
                "y": base - h,
                "w": width,
                "h": h,
                "label_x": 6 + i * slot + width // 2,
                "day": d.day,
                "receipts": d.receipts,
                "amount": d.amount,
                "chosen": d.day == chosen,
            }
        )
    return {"bars": bars, "width": 12 + len(days) * slot, "height": height, "base": base}


@login_required
@require_GET
def collections_download(request: HttpRequest) -> HttpResponse:
    """The day's collections file, as it would be sent (network-wide: those who send it)."""
    _exchanger(request)
    form = DayForm(request.GET or None)
    made = collections.collections_file(form.day())
    response = HttpResponse(made.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{made.name}"'
    return response


@login_required
@require_POST
def collections_send(request: HttpRequest) -> HttpResponse:
    user = _exchanger(request)
    form = DayForm(request.POST)
    day = form.day()
    back = f"{reverse('water:exchange_collections')}?date={day.isoformat()}"
    try:
        export = collections.send_collections(day, user, attempts=3, wait=1.0)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    messages.success(
        request,
        _("Collections of %(day)s sent: %(lines)s payments; the establishment's receipt %(ack)s.")
        % {"day": day.isoformat(), "lines": export.lines, "ack": export.acknowledgement},
    )
    return redirect(back)
