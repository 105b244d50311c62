"""Gap-free, per-node numbers for applications, receipts, refunds and documents."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from baladiya.core.ids import format_reference
from baladiya.core.models import Counter

# Checks that refuse a series this node must not write (the central node, for a center that
# runs its own node: `sync.central.guard_series`). Registered by apps, not imported: core
# knows nothing of sync.
SERIES_GUARDS: list[Callable[[str], None]] = []


def next_value(scope: str, kind: str, year: int = 0) -> int:
    """Take the next value of a series. Must run inside the caller's transaction so that a
    rollback gives the number back (no gap)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value() must run inside transaction.atomic()")
    for guard in SERIES_GUARDS:
        guard(scope)
    counter, _ = Counter.objects.select_for_update().get_or_create(
        scope=scope, kind=kind, year=year
    )
    counter.value += 1
    counter.save(update_fields=["value"])
    return counter.value


def next_reference(prefix: str, kind: str = "") -> str:
    """`C03-26-000123` for applications, `C03-R26-000045` for receipts (kind `R`), etc."""
    year = timezone.localdate().year
    seq = next_value(prefix, kind or "A", year)
    return format_reference(prefix, year, seq, kind)
