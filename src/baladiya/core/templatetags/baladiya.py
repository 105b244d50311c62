"""Template helpers: money, LTR isolation of references and numbers inside Arabic text."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from baladiya.core.money import format_pounds

register = template.Library()


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
