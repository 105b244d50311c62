"""`audit.verify_tail`: the quick check a node runs at every start (last N events + head)."""

from __future__ import annotations

import pytest

from baladiya.core import audit
from baladiya.core.models import AuditEvent, Counter

pytestmark = pytest.mark.django_db

HEAD = {"scope": "audit", "kind": "chain", "year": 0}


def _chain(n: int) -> None:
    for i in range(n):
        audit.record("test.event", actor="tester", n=i)


def _tail(count: int = 10) -> list[str]:
    return [str(p) for p in audit.verify_tail(count)]


def test_an_intact_chain_verifies_whole_or_by_its_tail() -> None:
    assert _tail() == []  # nothing logged yet
    _chain(5)
    assert _tail(10) == []  # shorter than the tail: checked from the genesis
    _chain(25)
    assert _tail(10) == []
    assert _tail(1) == []


def test_a_changed_row_in_the_tail_is_found() -> None:
    _chain(30)
    AuditEvent.objects.filter(seq=25).update(actor="someone-else")
    assert _tail() == ["seq 25: row content was changed"]


def test_a_change_before_the_tail_is_left_to_the_full_walk() -> None:
    """The price of a fast start: older rows are `verify_chain`'s (`baladiya audit verify`)."""
    _chain(30)
    AuditEvent.objects.filter(seq=5).update(actor="someone-else")
    assert _tail() == []
    assert [str(p) for p in audit.verify_chain()] == ["seq 5: row content was changed"]


def test_the_first_link_of_the_tail_is_checked_against_the_row_before_it() -> None:
    _chain(30)
    AuditEvent.objects.filter(seq=20).update(hash="f" * 64)  # the tail's anchor (30 - 10)
    assert _tail() == ["seq 21: link to the previous row is broken"]


def test_lost_last_rows_are_found_by_the_head() -> None:
    _chain(12)
    AuditEvent.objects.filter(seq__gte=11).delete()
    assert _tail() == ["seq 11: rows 11..12 are missing"]


def test_a_rewritten_last_row_is_found_by_the_head() -> None:
    _chain(12)
    last = AuditEvent.objects.get(seq=12)
    last.data = {"n": 99}
    last.hash = audit._digest(last.prev_hash, audit._fields(last))
    last.save()
    assert _tail() == ["seq 12: the last row differs from the chain head"]


def test_a_head_behind_the_rows_is_found_by_both_checks() -> None:
    """The next event would take a seq that exists: every audited write would fail."""
    _chain(12)
    Counter.objects.filter(**HEAD).update(value=10)
    assert _tail() == ["seq 11: the chain head is behind the last row 12"]
    assert [str(p) for p in audit.verify_chain()] == [
        "seq 11: the chain head is behind the last row 12"
    ]
