"""Gap-free, per-node numbers for applications, receipts, refunds and documents."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from baladiya.core.ids import format_reference
from baladiya.core.models import Counter

# Checks that refuse a series this node must not write (the central node, for a center that
# runs its own node: `sync.central.guard_series`). Registered by apps, not imported: core
# knows nothing of sync.
SERIES_GUARDS: list[Callable[[str], None]] = []


def next_value(scope: str, kind: str, year: int = 0) -> int:
    """Take the next value of a series. Must run inside the caller's transaction so that a
    rollback gives the number back (no gap).

    One SQL statement, `UPDATE … SET value = value + 1 … RETURNING id, value`, instead of the
    ORM's locked read and save: it locks the row until the transaction ends all the same
    (PostgreSQL row lock; SQLite's single writer), and every application, receipt and
    document takes one number. A series' first number inserts its row (`ON CONFLICT`: two
    first takers of a new series still count 1, 2).
    """
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("next_value() must run inside transaction.atomic()")
    for guard in SERIES_GUARDS:
        guard(scope)
    table = conn.ops.quote_name(Counter._meta.db_table)
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = value + 1 "  # noqa: S608  # names from the model
            "WHERE scope = %s AND kind = %s AND year = %s RETURNING id, value",
            [scope, kind, year],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {table} (scope, kind, year, value, last_hash) "  # noqa: S608
                "VALUES (%s, %s, %s, 1, '') ON CONFLICT (scope, kind, year) "
                f"DO UPDATE SET value = {table}.value + 1 RETURNING id, value",
                [scope, kind, year],
            )
            row = cursor.fetchone()
    counter = Counter(id=row[0], scope=scope, kind=kind, year=year, value=int(row[1]))
    # What `counter.save(update_fields=["value"])` would tell its listeners: a center node
    # replicates its own series to the central node (sync.capture).
    post_save.send(
        sender=Counter,
        instance=counter,
        created=False,
        update_fields=frozenset({"value"}),
        raw=False,
        using=conn.alias,
    )
    return counter.value


def next_reference(prefix: str, kind: str = "") -> str:
    """`C03-26-000123` for applications, `C03-R26-000045` for receipts (kind `R`), etc."""
    year = timezone.localdate().year
    seq = next_value(prefix, kind or "A", year)
    return format_reference(prefix, year, seq, kind)
