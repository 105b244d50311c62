"""Temporary: URL names exist before their views land, so templates can link to them."""

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _


def not_ready(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse(_("Not implemented yet"), status=501)
