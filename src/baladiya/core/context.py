from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def node(request: HttpRequest) -> dict[str, Any]:
    return {"BALADIYA_NODE": settings.BALADIYA_NODE, "NODE_CENTER": settings.NODE_CENTER_CODE}
