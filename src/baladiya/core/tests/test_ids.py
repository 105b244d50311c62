"""UUIDv7 primary keys and human references."""

from __future__ import annotations

import time
import uuid

from baladiya.core.ids import format_reference, uuid7


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def test_uuid7_has_version_7_and_rfc_variant() -> None:
    for _ in range(200):
        value = uuid7()
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert (value.int >> 62) & 0b11 == 0b10


def test_uuid7_carries_the_current_unix_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= _millis(value) <= after


def test_uuid7_sorts_by_creation_time() -> None:
    earlier = [uuid7() for _ in range(50)]
    time.sleep(0.003)  # a later millisecond
    later = [uuid7() for _ in range(50)]
    assert max(earlier) < min(later)
    assert max(map(_millis, earlier)) < min(map(_millis, later))


def test_uuid7_is_unique_over_many() -> None:
    values = [uuid7() for _ in range(100_000)]
    assert len(set(values)) == len(values)


def test_reference_format() -> None:
    assert format_reference("C03", 2026, 1) == "C03-26-000001"
    assert format_reference("C03", 2026, 123, "R") == "C03-R26-000123"
    assert format_reference("C00", 2031, 999_999, "D") == "C00-D31-999999"
