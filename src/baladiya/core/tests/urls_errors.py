"""Test-only URLconf: the real site plus views that fail on purpose (test_errors_middleware)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.urls import handler400, handler403, handler404, handler500
from baladiya.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

SECRET_DETAIL = "db password is hunter2"


def domain_error(request: HttpRequest) -> HttpResponse:
    raise Conflict(_("This receipt was already refunded."), code="already_refunded")


def not_allowed(request: HttpRequest) -> HttpResponse:
    raise NotAllowed(_("This record belongs to another center."))


def plain_domain_error(request: HttpRequest) -> HttpResponse:
    raise DomainError("Bad amount")


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_DETAIL)


def missing(request: HttpRequest) -> HttpResponse:
    raise Http404("no such thing")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


_failing = [
    ("domain/", domain_error),
    ("not-allowed/", not_allowed),
    ("plain/", plain_domain_error),
    ("crash/", crash),
    ("missing/", missing),
    ("forbidden/", forbidden),
]
urlpatterns = [
    *(path(f"test-errors/{route}", view) for route, view in _failing),
    *(path(f"api/test-errors/{route}", view) for route, view in _failing),
    *site_urlpatterns,
]
