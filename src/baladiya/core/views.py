from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods


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


@login_required
@require_http_methods(["GET", "POST"])
def audit_integrity(request: HttpRequest) -> HttpResponse:
    """When the audit log was last proved intact, what each walk found; ask for one now."""
    from baladiya.accounts import roles
    from baladiya.accounts.permissions import require_role
    from baladiya.core.integrity import CHECK_EVERY, request_check
    from baladiya.core.models import ChainCheck

    staff = require_role(request.user, roles.AUDITOR, roles.ADMIN)
    if request.method == "POST":
        request_check(staff)
        messages.success(
            request, _("Check requested: its result appears here within a minute or two.")
        )
        return redirect("core:audit_integrity")
    checks = list(ChainCheck.objects.all()[:30])
    return render(
        request,
        "core/audit_integrity.html",
        {
            "checks": checks,
            "waiting": any(c.state != ChainCheck.State.DONE for c in checks),
            "last": next((c for c in checks if c.state == ChainCheck.State.DONE), None),
            "every_hours": int(CHECK_EVERY.total_seconds() // 3600),
        },
    )
