"""Mounted at /api/ by the root urls: /api/v1/ is the ninja API; anything else under /api/
answers a JSON 404. Responses of the API that are not JSON (ninja's bare 405, say) are turned
into the JSON error shape, so a client never has to parse HTML from /api/."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.decorators.csrf import csrf_exempt

from baladiya.api.errors import status_error
from baladiya.api.main import api


def json_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            replaced = status_error(response.status_code)
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            return replaced
        return response

    return wrapper


def _wrapped(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    out: list[URLPattern | URLResolver] = []
    for p in patterns:
        if isinstance(p, URLPattern):
            out.append(URLPattern(p.pattern, json_errors(p.callback), p.default_args, p.name))
        else:
            out.append(p)
    return out


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponseBase:
    return status_error(404)


_patterns, _app_name, _namespace = api.urls
urlpatterns = [
    path("v1/", include((_wrapped(_patterns), _app_name), namespace=_namespace)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
