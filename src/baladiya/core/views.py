from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
    from django.shortcuts import redirect

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
