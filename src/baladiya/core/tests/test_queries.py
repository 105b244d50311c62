"""`unique_or_none`: the row of a unique lookup, or None, read without an ORDER BY."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from baladiya.centers.models import Center
from baladiya.core.queries import unique_or_none
from baladiya.core.seed.homs import seed_homs

pytestmark = pytest.mark.django_db


def test_finds_the_row_with_its_related_rows_and_no_order_by() -> None:
    seed_homs()
    with CaptureQueriesContext(connection) as queries:
        center = unique_or_none(
            Center.objects.prefetch_related("neighbourhoods").filter(code="C03")
        )
    assert center is not None and center.code == "C03"
    sql = queries.captured_queries[0]["sql"]
    assert "ORDER BY" not in sql.upper()
    assert "LIMIT 1" in sql.upper()
    with CaptureQueriesContext(connection) as later:
        names = [n.name_ar for n in center.neighbourhoods.all()]
    assert names and not later.captured_queries  # the prefetch still ran


def test_none_when_nothing_matches() -> None:
    seed_homs()
    assert unique_or_none(Center.objects.filter(code="C99")) is None
