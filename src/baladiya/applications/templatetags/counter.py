"""Small template helpers for the counter and back-office screens."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from baladiya.applications.workflow import OPEN_STATES, Status

register = template.Library()


@register.filter
def tr(obj: Any, attr: str = "name") -> str:
    """`service|tr:"name"` -> `name_en` in English, `name_ar` otherwise."""
    if obj is None:
        return ""
    suffix = "en" if (get_language() or "ar") == "en" else "ar"
    return str(getattr(obj, f"{attr}_{suffix}", "") or "")


@register.filter
def is_overdue(app: Any) -> bool:
    return bool(app.status in OPEN_STATES and app.sla_due < timezone.localdate())


@register.filter
def days_late(app: Any) -> int:
    return max(0, (timezone.localdate() - app.sla_due).days)


@register.simple_tag
def status_badge(status: str) -> SafeString:
    try:
        label = str(Status(status).label)
    except ValueError:
        label = status
    return format_html('<span class="status status-{}">{}</span>', status, label)


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], param: str, number: int) -> str:
    """The current URL's query string with `param` set to `number` (other filters kept)."""
    query = context["request"].GET.copy()
    query[param] = str(number)
    return "?" + query.urlencode()
