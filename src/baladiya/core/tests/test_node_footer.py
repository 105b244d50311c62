"""Every page's footer says which node served it, in the reader's language (it read
'central' or 'center:C03' on Arabic pages)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _footer(language: str) -> str:
    page = Client(HTTP_ACCEPT_LANGUAGE=language).get("/verify/")
    assert page.status_code == 200
    match = re.search(r'<footer class="foot">(.*?)</footer>', page.content.decode(), re.S)
    assert match is not None
    return match.group(1)


def test_the_central_node_is_named_in_arabic_and_english() -> None:
    assert "العقدة المركزية" in _footer("ar")
    assert "central node" in _footer("en")


def test_a_center_node_is_named_with_its_center(settings: Any) -> None:
    settings.BALADIYA_NODE, settings.NODE_CENTER_CODE = "center:C03", "C03"
    footer = _footer("ar")
    assert "عقدة المركز" in footer and "C03" in footer and "center:" not in footer
