"""The hash-chained audit log: append on every state change, verify on demand."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from baladiya.core.models import AuditEvent, Counter

GENESIS = "0" * 64
_HEAD: dict[str, Any] = {"scope": "audit", "kind": "chain", "year": 0}


# Who did it, when no person did: a verified webhook, a scheduled job, a sync. Stored as is
# (the audit log and histories are data); pages show it translated (`actor_name` filter).
SYSTEM_ACTOR = "system"


def _actor_name(actor: Any) -> str:
    if actor is None:
        return SYSTEM_ACTOR
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "username", "") or actor)


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "center": event.center,
        "data": event.data,
    }


def record(
    action: str,
    *,
    actor: Any = None,
    obj: models.Model | None = None,
    center: str = "",
    **data: Any,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    The head row is locked so concurrent writers (several gunicorn workers, PostgreSQL)
    chain strictly one after another; it holds the last event's hash, so the link is read
    with the lock (one SELECT … FOR UPDATE). No savepoint (`savepoint=False`): a failure here
    must abort the caller's whole operation anyway, and none catches it to carry on.
    """
    with transaction.atomic(savepoint=False):
        conn = transaction.get_connection()
        head = _locked_head(conn)
        prev = head.last_hash or _stored_hash(head.value)
        event = AuditEvent(
            seq=head.value + 1,
            at=timezone.now(),
            actor=_actor_name(actor),
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(getattr(obj, "pk", "")) if obj is not None else "",
            center=center,
            data=json.loads(json.dumps(data, default=str)),
            prev_hash=prev,
        )
        # Round-trip `at` through the DB precision (microseconds) before hashing.
        event.hash = _digest(event.prev_hash, _fields(event))
        head.value, head.last_hash = event.seq, event.hash
        _save_head(conn, head)
        event.save(force_insert=True)
        state = _transaction_state(conn)
        if state is not None:
            conn.baladiya_audit_head = (state, head)
    return event


def _transaction_state(conn: Any) -> tuple[Any, ...] | None:
    """What identifies "this transaction, inside the same savepoints, nothing rolled back
    since": the open savepoints (not the `atomic(savepoint=False)` blocks, which cannot be
    rolled back alone) and Django's list of on-commit hooks, which is a new list after every
    commit, rollback and rollback to a savepoint (also a manual `savepoint_rollback`). None
    when transactions are managed by hand (autocommit off): a manual commit changes neither."""
    if not (conn.in_atomic_block and conn.commit_on_exit):
        return None
    return (tuple(sid for sid in conn.savepoint_ids if sid is not None), conn.run_on_commit)


@dataclass
class _Head:
    """The chain's head row (a `Counter`): the last event's seq and hash."""

    pk: int
    value: int
    last_hash: str


def _locked_head(conn: Any) -> _Head:
    """The chain's head row, locked (`SELECT … FOR UPDATE`, created on first use).

    An event already appended in the same transaction, at the same savepoint depth with
    nothing rolled back since, still holds the lock (PostgreSQL row lock; SQLite: the write
    transaction), so nobody else can have moved the head: its row is reused instead of read
    again (−1 statement per further event in a transaction, e.g. a cash payment's two events,
    an issuance's three). Anything else, e.g. after a rollback to a savepoint, reads it anew.

    Plain SQL rather than the ORM (here and in `_save_head`): every state change appends an
    event, and building the query cost more than running it.
    """
    cached, conn.baladiya_audit_head = getattr(conn, "baladiya_audit_head", None), None
    if cached is not None:  # (state, head), stored by `record` once both rows were written
        state = _transaction_state(conn)
        if state is not None and state[0] == cached[0][0] and state[1] is cached[0][1]:
            head: _Head = cached[1]
            return head
    table = _counter_table(conn)
    lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
    # The table name comes from the model, never from input (S608).
    select = (
        f"SELECT id, value, last_hash FROM {table} WHERE scope = %s AND kind = %s AND year = %s"  # noqa: S608
    )
    key = [_HEAD["scope"], _HEAD["kind"], _HEAD["year"]]
    with conn.cursor() as cursor:
        cursor.execute(select + lock, key)
        row = cursor.fetchone()
        if row is None:  # the first event ever; of two first writers, one inserts the row
            cursor.execute(
                f"INSERT INTO {table} (scope, kind, year, value, last_hash) "  # noqa: S608
                "VALUES (%s, %s, %s, 0, '') ON CONFLICT (scope, kind, year) DO NOTHING",
                key,
            )
            cursor.execute(select + lock, key)
            row = cursor.fetchone()
    return _Head(int(row[0]), int(row[1]), str(row[2] or ""))


def _save_head(conn: Any, head: _Head) -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_counter_table(conn)} SET value = %s, last_hash = %s "  # noqa: S608
            "WHERE id = %s",
            [head.value, head.last_hash, head.pk],
        )


def _counter_table(conn: Any) -> str:
    return str(conn.ops.quote_name(Counter._meta.db_table))


def _stored_hash(seq: int) -> str:
    """The hash of event `seq`, from its row: a head written before it kept the last hash."""
    if seq == 0:
        return GENESIS
    stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    return stored or GENESIS


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.problem}"


def verify_chain(batch_size: int = 5000) -> list[ChainProblem]:
    """Walk the chain in order; report changed rows, missing rows and broken links."""
    problems: list[ChainProblem] = []
    expected_seq, prev_hash = _walk(_iterate(batch_size), 1, GENESIS, problems)
    _check_head(expected_seq, prev_hash, problems)
    return problems


def verify_tail(count: int = 1000) -> list[ChainProblem]:
    """Verify only the last `count` events and the chain head against the last row: what a
    node checks each time it starts (`core.startup`), in about the same time whatever the
    log's length. A torn or rolled-back end of the log (rows missing, a changed row, the head
    ahead of or behind the rows) shows here; `verify_chain` still walks everything."""
    rows = list(AuditEvent.objects.order_by("-seq")[: count + 1])[::-1]
    expected_seq, prev_hash = 1, GENESIS
    if len(rows) > count:  # older events exist: the row before the tail anchors its first link
        anchor = rows.pop(0)
        expected_seq, prev_hash = anchor.seq + 1, anchor.hash
    problems: list[ChainProblem] = []
    expected_seq, prev_hash = _walk(rows, expected_seq, prev_hash, problems)
    _check_head(expected_seq, prev_hash, problems)
    return problems


def _walk(
    events: Iterable[AuditEvent], expected_seq: int, prev_hash: str, problems: list[ChainProblem]
) -> tuple[int, str]:
    """Check `events` (in seq order) from `expected_seq`, linked to `prev_hash`; return the
    next expected seq and the last hash."""
    for event in events:
        if event.seq != expected_seq:
            problems.append(
                ChainProblem(expected_seq, f"rows {expected_seq}..{event.seq - 1} are missing")
            )
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(event.seq, "link to the previous row is broken"))
        if _digest(event.prev_hash, _fields(event)) != event.hash:
            problems.append(ChainProblem(event.seq, "row content was changed"))
        prev_hash = event.hash
        expected_seq = event.seq + 1
    return expected_seq, prev_hash


def _check_head(expected_seq: int, prev_hash: str, problems: list[ChainProblem]) -> None:
    """The head row (last seq and hash) against the last row read."""
    head = Counter.objects.filter(**_HEAD).values_list("value", "last_hash").first() or (0, "")
    last = expected_seq - 1
    if head[0] > last:
        problems.append(ChainProblem(expected_seq, f"rows {expected_seq}..{head[0]} are missing"))
    elif head[0] == last and head[1] and head[1] != prev_hash:
        # The last row was rewritten with a recomputed hash: no later row links to it, but
        # the head kept the hash it had when it was appended.
        problems.append(ChainProblem(head[0], "the last row differs from the chain head"))
    elif head[0] < last:
        # The next event would take seq head+1, which exists: every write would fail.
        problems.append(ChainProblem(head[0] + 1, f"the chain head is behind the last row {last}"))


def _iterate(batch_size: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq
