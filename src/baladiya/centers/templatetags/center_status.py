"""Template helpers of the status page: durations and uptime shares, LTR-isolated numbers."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(value: dt.timedelta | float | int | None) -> str:
    """`2 h 05 min`, `12 min`, `3 d 4 h` (value: a timedelta or seconds)."""
    if value is None:
        return ""
    seconds = int(value.total_seconds() if isinstance(value, dt.timedelta) else value)
    minutes = max(0, seconds) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def percent(share: float | None) -> SafeString:
    """0.9734 -> `97.3%` (LTR-isolated); None -> an em dash."""
    if share is None:
        return mark_safe('<span class="muted">—</span>')
    value = 100 * share
    shown = "100" if value >= 99.95 else f"{value:.1f}"
    return format_html('<bdi dir="ltr">{}%</bdi>', shown)


@register.filter
def reads_network(user: object) -> bool:
    """The navigation's link to the status page (`centers.permissions.may_read_network`)."""
    from baladiya.centers.permissions import may_read_network

    return may_read_network(user)


@register.filter
def uses_tickets(user: object) -> bool:
    """The navigation's link to the support tickets (`centers.permissions.may_use_tickets`)."""
    from baladiya.centers.permissions import may_use_tickets

    return may_use_tickets(user)
