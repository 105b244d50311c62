"""Temporary: URL names exist before their views land, so templates can link to them."""

from django.http import HttpRequest, HttpResponse


def not_ready(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return HttpResponse("Not implemented yet", status=501)
