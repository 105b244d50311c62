"""On a center node, what only the central node does says so clearly (decision 0009, rule 6).

The electronic center (portal and API), online payments and their gateways, postal dispatch,
settlement, the directorate's pages and reference-data editing (admin) live on the central
node. On a center's PC those addresses answer with one clear page (or JSON under /api/) in
the user's language, status 503, instead of half-working offline.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from baladiya.sync.capture import is_center_node

CENTRAL_ONLY = (
    "/e/",
    "/api/",
    "/admin/",
    "/payments/online/",
    "/payments/gateways/",
    "/payments/sandbox/",
    "/payments/settlements/",
    "/delivery/post/",
    "/centers/status/",
    "/sync/",
    "/water/my/",
)


def central_only(path: str) -> bool:
    return path.startswith(CENTRAL_ONLY)


class CentralOnlyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_center_node() or not central_only(request.path):
            return self.get_response(request)
        message = _(
            "This is done on the central node, not at a service center's own PC. Use the "
            "central address, or ask the directorate."
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "central_only", "message": message}, status=503)
        return render(request, "error.html", {"message": message, "status": 503}, status=503)
