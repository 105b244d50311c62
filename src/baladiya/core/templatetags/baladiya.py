"""Template helpers: money, LTR isolation of references and numbers inside Arabic text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from baladiya.core import text
from baladiya.core.money import format_pounds

register = template.Library()


@register.simple_tag
def list_separator() -> str:
    """`, ` in English, `، ` in Arabic: between the items of a list written out in a loop."""
    return pgettext("list separator", ", ")


@register.filter
def join_list(items: Any) -> str:
    """The items joined with the language's list separator (escaped by the template)."""
    return text.join_list(items)


@register.filter
def pounds(piastres: int | None) -> str:
    if piastres is None:
        return ""
    return format_pounds(int(piastres))


@register.filter
def ltr(value: object) -> SafeString:
    """Isolate a reference/number so `C03-26-000123` is not shown reversed in RTL text."""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


@register.simple_tag
def money(piastres: int | None) -> SafeString:
    return format_html('<bdi dir="ltr" class="money">{}</bdi>', pounds(piastres))


@register.filter
def actor_name(name: str) -> str:
    """Who did a step, as stored; the automatic actor (`audit.SYSTEM_ACTOR`) in words."""
    from baladiya.core.audit import SYSTEM_ACTOR

    return str(_("System (automatic)")) if name == SYSTEM_ACTOR else name


@register.filter
def moment(value: dt.datetime | None) -> str:
    """`09:44` for a time today (Homs), `2026-11-18 09:44` for another day: a list of what
    waits shows at a glance what came in today and what has waited since."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")
