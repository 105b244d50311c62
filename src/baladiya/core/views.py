from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from baladiya.core.forms import AuditPeriodForm


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "error.html", {"status": 400}, status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "error.html", {"status": 403}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "error.html", {"status": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "error.html", {"status": 500}, status=500)


def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the screen it works from; the public and citizens to the portal."""
    user = request.user
    if not user.is_authenticated:
        return redirect("portal:home")
    codes = user.role_codes()  # type: ignore[union-attr]
    for role, target in (
        ("clerk", "applications:counter"),
        ("cashier", "payments:cashier"),
        ("officer", "applications:back_office"),
        ("supervisor", "applications:supervisor"),
        ("auditor", "payments:reconciliation"),
        ("admin", "applications:supervisor"),
        ("finance", "payments:settlements"),
    ):
        if role in codes:
            return redirect(target)
    return redirect("portal:home")


def _auditor(request: HttpRequest) -> Any:
    from baladiya.accounts import roles
    from baladiya.accounts.permissions import require_role

    return require_role(request.user, roles.AUDITOR, roles.ADMIN)


@login_required
@require_http_methods(["GET", "POST"])
def audit_integrity(request: HttpRequest) -> HttpResponse:
    """When the audit log was last proved intact, what each walk found; ask for one now;
    download the log for a period."""
    from baladiya.core.integrity import request_check

    staff = _auditor(request)
    if request.method == "POST":
        request_check(staff)
        messages.success(
            request, _("Check requested: its result appears here within a minute or two.")
        )
        return redirect("core:audit_integrity")
    today = timezone.localdate()
    period = AuditPeriodForm(initial={"start": today - dt.timedelta(days=30), "end": today})
    return _integrity_page(request, period)


def _integrity_page(
    request: HttpRequest, period: AuditPeriodForm, status: int = 200
) -> HttpResponse:
    from baladiya.core.integrity import CHECK_EVERY
    from baladiya.core.models import ChainCheck

    checks = list(ChainCheck.objects.all()[:30])
    return render(
        request,
        "core/audit_integrity.html",
        {
            "checks": checks,
            "waiting": any(c.state != ChainCheck.State.DONE for c in checks),
            "last": next((c for c in checks if c.state == ChainCheck.State.DONE), None),
            "every_hours": int(CHECK_EVERY.total_seconds() // 3600),
            "period": period,
        },
        status=status,
    )


@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The audit log of the chosen days as CSV; the download itself is audited."""
    from baladiya.core.audit_export import csv_lines, record_export

    staff = _auditor(request)
    period = AuditPeriodForm(request.GET)
    if not period.is_valid():
        return _integrity_page(request, period, status=400)
    start, end = period.cleaned_data["start"], period.cleaned_data["end"]
    record_export(staff, start, end)
    response = StreamingHttpResponse(
        csv_lines(start, end, translation.get_language() or settings.LANGUAGE_CODE),
        content_type="text/csv; charset=utf-8",
    )
    name = f"audit-log-{settings.BALADIYA_NODE.replace(':', '-')}-{start}-{end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
