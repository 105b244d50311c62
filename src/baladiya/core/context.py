from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _


def node(request: HttpRequest) -> dict[str, Any]:
    return {
        "BALADIYA_NODE": settings.BALADIYA_NODE,
        "NODE_CENTER": settings.NODE_CENTER_CODE,
        "NODE_LABEL": node_label(),
    }


def node_label() -> str:
    """Which node serves the page, in the reader's language (the page footer): a clerk who
    phones the directorate can say whether they are on their center's own node."""
    if settings.BALADIYA_NODE == "central":
        return _("central node")
    return _("center node %(code)s") % {"code": settings.NODE_CENTER_CODE}
