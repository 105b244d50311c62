"""The outbox pump's loop (`baladiya outbox`): deliver what is due, then sleep until more is.

A payment webhook waits in the outbox until the pump posts it, so the pump must notice a new
row at once; and on a center's low-power PC an idle pump should cost nothing.

- On PostgreSQL a trigger (migration 0002) sends `NOTIFY baladiya_outbox` when a row becomes
  pending, at the commit of the transaction that queued it. The pump LISTENs on its own
  connection and sleeps in the kernel until then: a new message goes out within milliseconds
  of the commit, and an idle pump wakes by itself only every `LISTENING_WAIT` seconds.
- On SQLite (no notifications) the pump looks every `OUTBOX_POLL_SECONDS` (default 0.5 s)
  with one read-only indexed query; it opens a write transaction (which takes SQLite's
  single write lock) only when a message is due.
- Either way it sleeps no longer than until the next message is due (a retry after backoff,
  a delayed sandbox webhook), and never busy-polls: a pass that found a due message but
  could not take it (another pump holds it) waits `MIN_WAIT` before looking again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.services import deliver_due

CHANNEL = "baladiya_outbox"  # the trigger of migration 0002 notifies this channel
MIN_WAIT = 0.05
# A pump woken by notifications looks by itself only this often: for the periodic jobs (every
# minute at most) and as a safety net. Deferred messages are waited for exactly (next_due).
LISTENING_WAIT = 5.0


def poll_seconds() -> float:
    return max(MIN_WAIT, float(getattr(settings, "OUTBOX_POLL_SECONDS", 0.5)))


def next_due() -> dt.datetime | None:
    """When the earliest pending message is due (None: nothing pending). Uses the
    (state, next_attempt_at) index; no lock, no write."""
    return (
        OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


class Wakeup:
    """Sleeps until a NOTIFY on `CHANNEL` (PostgreSQL) or the timeout (anything else)."""

    def __init__(self) -> None:
        self._listening: Any = None  # the psycopg connection that LISTENs, if any

    def listen(self) -> bool:
        """LISTEN on the current database connection (again after a reconnect). Call before
        looking at the queue, so that nothing committed after the look is missed."""
        if connection.vendor != "postgresql":
            return False
        connection.ensure_connection()
        raw = connection.connection
        if raw is not self._listening:
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")  # autocommit: effective at once
            self._listening = raw
        return True

    def wait(self, seconds: float, stopping: Callable[[], bool] = lambda: False) -> None:
        """Return after `seconds`, at a notification, or (within a second) once `stopping()`."""
        raw = self._listening
        if raw is None or raw is not connection.connection or raw.closed:
            self._listening = None
            time.sleep(seconds)
            return
        deadline = time.monotonic() + seconds
        # Notifications that came in during the pass wait in psycopg's backlog: they wake us
        # at once (one more pass, which may find nothing: cheap). Slices of at most a second:
        # a signal does not interrupt the wait, and SIGTERM should stop the pump promptly.
        while not stopping():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if any(True for _notify in raw.notifies(timeout=min(remaining, 1.0), stop_after=1)):
                break
        for _notify in raw.notifies(timeout=0):  # drain: one pass serves them all
            pass


def run(
    limit: int,
    *,
    stopping: Callable[[], bool],
    report: Callable[[str], None],
    between: Callable[[], None] = lambda: None,
) -> None:
    """Deliver due messages (at most `limit` per pass) until `stopping()`; `between()` runs
    before each pass (the periodic jobs)."""
    wakeup = Wakeup()
    while not stopping():
        between()
        wait = poll_seconds()
        try:
            if wakeup.listen():
                wait = max(wait, LISTENING_WAIT)
            due_at = next_due()
            now = timezone.now()
            if due_at is not None and due_at <= now:
                handled = deliver_due(limit=limit).handled
                if handled:
                    continue  # look again at once: more may have come in meanwhile
                wait = MIN_WAIT  # due but taken by another pump (leased): not a busy loop
            elif due_at is not None:
                wait = min(wait, max(MIN_WAIT, (due_at - now).total_seconds()))
            wakeup.wait(wait, stopping)
        except Exception as exc:  # database briefly unavailable (or a bug): keep the pump alive
            report(f"{type(exc).__name__}: {exc}")
            _reconnect_later()
            time.sleep(poll_seconds())


def _reconnect_later() -> None:
    """Drop the connection (it may be broken); the next pass opens a new one and LISTENs."""
    with contextlib.suppress(Exception):  # closing a dead connection may fail too
        connection.close()
