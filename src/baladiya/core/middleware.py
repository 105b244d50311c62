"""Turn an error escaping a view into a clear message instead of a 500 or a stack trace.

- A DomainError (a rule refused the operation; nothing was written): the error page with its
  message and status, or — after a form POST — back to the form with the message on top.
- Under `/api/`: always JSON `{"code", "message"}`, also for 404, 403 and unexpected errors
  (logged like Django logs them; with DEBUG on, Django's debug page is left alone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from baladiya.core.errors import DomainError

logger = logging.getLogger("django.request")


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return _api_error(request, exc)
        if not isinstance(exc, DomainError):
            return None
        if request.method == "POST":
            messages.error(request, str(exc.message))
            back = request.META.get("HTTP_REFERER", "")
            if back and url_has_allowed_host_and_scheme(
                back, {request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(back)
        return render(
            request, "error.html", {"message": exc.message, "status": exc.status}, status=exc.status
        )


def _api_error(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    if isinstance(exc, DomainError):
        return _json(exc.code, str(exc.message), exc.status)
    if isinstance(exc, Http404):
        return _json("not_found", _("The page or record you asked for does not exist."), 404)
    if isinstance(exc, PermissionDenied):
        return _json("forbidden", _("Your role or center does not allow this."), 403)
    if settings.DEBUG:
        return None
    logger.error(
        "Internal Server Error: %s",
        request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    return _json(
        "server_error", _("The error was recorded. Nothing was changed. Please try again."), 500
    )


def _json(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )
