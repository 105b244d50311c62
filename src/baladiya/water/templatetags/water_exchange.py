"""Who sees the water exchange pages, for the navigation (`{% load water_exchange %}`):
`user|exchanges_water_files` (imports, the collections file) and
`user|sees_water_collections` (the collection reports)."""

from __future__ import annotations

from typing import Any

from django import template

from baladiya.water import collections

register = template.Library()


@register.filter
def exchanges_water_files(user: Any) -> bool:
    return collections.may_exchange(user)


@register.filter
def sees_water_collections(user: Any) -> bool:
    return collections.may_see_collections(user)
