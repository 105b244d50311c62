"""Power cuts lose nothing (issue 4, point 5).

The crash test (`core.crashtest`) SIGKILLs a busy center node 50 times at random points,
restarts it each time and then checks DESIGN §5 invariants over the database and everything
the node acknowledged. It always runs on SQLite files of its own (a center node's engine),
whatever engine the suite uses, so the PostgreSQL pass skips it. The checks themselves are
tested here too, on a database broken on purpose: a check that cannot fail proves nothing.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.crashtest import (
    DB_NAME,
    EXIT_CORRUPT,
    Ack,
    CounterDesk,
    CrashHooks,
    CrashReport,
    _Output,
    _parse,
    check_invariants,
    child_env,
    finish,
    run_crash_test,
)
from baladiya.core.models import AuditEvent
from baladiya.core.models import Counter as NumberCounter
from baladiya.documents.models import IssuedDocument
from baladiya.payments.models import Receipt

KILLS = 50
# Seconds from the worker's first ack to the kill: shorter than the bench's 50–600 ms (a
# restart costs about a second, most of it Django's start), so 50 kills fit in about a minute.
WINDOW = (0.03, 0.4)
on_sqlite_pass = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the crash test always runs on its own SQLite files: the SQLite pass runs it",
)


# ---------------------------------------------------------------- the crash test


HOOKS_CALLED: Counter[str] = Counter()


def _hooks() -> CrashHooks:
    """Where a sync with the central node will go; here they only count their calls."""
    return CrashHooks(
        after_kill=lambda i, db: HOOKS_CALLED.update(["after_kill"]),
        after_start=lambda i, db: HOOKS_CALLED.update(["after_start"]),
        before_checks=lambda db: HOOKS_CALLED.update(["before_checks"]),
        extra_checks=lambda db: HOOKS_CALLED.update(["extra_checks"]) or [],
    )


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> CrashReport:
    seed = int(os.environ.get("BALADIYA_CRASH_SEED", "20260105"))
    folder = tmp_path_factory.mktemp("power-cut")
    return run_crash_test(KILLS, seed, folder, window=WINDOW, hooks=_hooks())


@on_sqlite_pass
def test_fifty_kills_lose_nothing_acknowledged(crashed: CrashReport) -> None:
    print(json.dumps(crashed.summary(), ensure_ascii=False))  # shown with -s or on failure
    assert crashed.problems == []
    assert crashed.kills == KILLS
    assert crashed.runs == KILLS + 1  # and a last start that finished the pending work
    # Every kind of counter operation was acknowledged, and stored (unacked ones too).
    done = crashed.ack_counts
    for op in ("submit", "receipt", "review", "approve", "issue", "refund", "handover"):
        assert done[op] > 0, op
    assert crashed.rows["receipts"] >= done["receipt"]
    assert crashed.rows["documents"] >= done["issue"]
    # The kills landed in more than one place (in a transaction, committing, rendering, …).
    assert len(crashed.kill_phases) >= 2, crashed.kill_phases
    assert HOOKS_CALLED == {
        "after_kill": KILLS,
        "after_start": KILLS,
        "before_checks": 1,
        "extra_checks": 1,
    }


@on_sqlite_pass
def test_a_damaged_database_is_refused_at_start(crashed: CrashReport, tmp_path: Path) -> None:
    """The node's start-up check on a copy of the crashed database with a garbage page."""
    assert crashed.db is not None
    copy = tmp_path / DB_NAME
    shutil.copy(crashed.db, copy)
    db = sqlite3.connect(copy)
    (page,) = db.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'core_counter'"
    ).fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    with copy.open("r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(b"\xde\xad\xbe\xef" * (size // 4))
    started = subprocess.run(
        [sys.executable, "-m", "baladiya.core.crashtest", "startup", "--db", str(copy)],
        env=child_env(copy),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == EXIT_CORRUPT, started.stderr
    # In the node's language (Arabic by default): "damaged" or "cannot be read".
    assert "تالف" in started.stderr or "تتعذر قراءة" in started.stderr, started.stderr


# ---------------------------------------------------------------- the acks


class _Chunks(io.RawIOBase):
    """A pipe that delivers its bytes in the pieces given."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = list(chunks)

    def read1(self, size: int = -1) -> bytes:
        return self._chunks.pop(0) if self._chunks else b""


def test_a_line_cut_by_the_kill_is_not_an_ack() -> None:
    out = _Output(
        _Chunks([b'{"op":"submit","reference":"C03-26-000001","amount":1}\n{"op":"rec', b"eipt"])
    )
    out.join()
    acks, garbled = _parse(out.lines)
    assert [a["reference"] for a in acks] == ["C03-26-000001"]
    assert out.cut == b'{"op":"receipt'
    assert garbled == []


def test_a_complete_line_that_is_no_ack_is_a_problem() -> None:
    assert _parse([b"Traceback (most recent call last):"])[1]


# ---------------------------------------------------------------- the checks catch


@pytest.fixture
def desk(
    center: Center, clerk: User, cashier: User, service: Service, citizen: Citizen
) -> CounterDesk:
    desk = CounterDesk(center, clerk, cashier, [service], [citizen], random.Random(1))
    desk.open_drawer()
    return desk


@pytest.fixture
def acks(desk: CounterDesk) -> list[Ack]:
    """Ten applications worked as the worker works them (the tenth cancelled and refunded),
    and one document handed over: every ack, as the worker would have printed them."""
    done: list[Ack] = []
    for _ in range(10):
        app, ack = desk.submit()
        done.append(ack)
        finish(desk, app, done.append)
    waiting = desk.waiting_for_pickup()
    assert waiting is not None
    done.append(desk.hand_over(waiting))
    return done


def _problems(acks: list[Ack]) -> list[str]:
    return check_invariants(acks, "C03", file_checks=False)  # the test database is in memory


def _acked(acks: list[Ack], op: str) -> list[Ack]:
    return [a for a in acks if a["op"] == op]


def test_an_intact_database_passes(acks: list[Ack]) -> None:
    ops = {a["op"] for a in acks}
    assert ops == {"submit", "receipt", "review", "approve", "issue", "refund", "handover"}
    assert _problems(acks) == []


def test_a_lost_acked_receipt_is_caught(acks: list[Ack]) -> None:
    last = _acked(acks, "receipt")[-1]
    number = last["receipt"][:-6] + f"{int(last['receipt'][-6:]) + 1:06d}"
    lost = {**last, "receipt": number}  # acked to a citizen, not in the database
    assert f"acked receipt {number} of {last['reference']} is missing" in _problems([*acks, lost])


def test_a_receipt_number_given_to_two_citizens_is_caught(acks: list[Ack]) -> None:
    """What a lost commit followed by a restart would do: the number handed out again."""
    first, second = _acked(acks, "receipt")[:2]
    reused = {**second, "receipt": first["receipt"]}
    problems = _problems([*acks, reused])
    assert (
        f"{first['receipt']} was acked for {first['reference']} and again for "
        + str(second["reference"])
        in problems
    )
    assert f"receipt {first['receipt']} is not the one acked for {second['reference']}" in problems


def test_a_gap_in_the_numbers_is_caught(acks: list[Ack]) -> None:
    third = _acked(acks, "issue")[2]["document"]
    IssuedDocument.objects.filter(number=third).delete()
    problems = _problems(acks)
    prefix = third[:-6]
    assert f"{prefix}… (counter 9): 1 number(s) missing: 3" in problems
    assert any(f"acked document {third}" in p for p in problems)


def test_a_number_taken_without_its_record_is_a_gap(acks: list[Ack]) -> None:
    NumberCounter.objects.filter(scope="C03", kind="R").update(value=11)
    assert any("(counter 11): 1 number(s) missing: 11" in p for p in _problems(acks))


def test_an_unbalanced_drawer_is_caught(acks: list[Ack]) -> None:
    """Cash receipted outside the drawer: the day's money no longer adds up."""
    number = _acked(acks, "receipt")[4]["receipt"]
    Receipt.objects.filter(number=number).update(session=None)  # bypasses immutability
    problems = _problems(acks)
    assert any("drawers expect" in p for p in problems), problems
    assert any("reconciliation off by" in p for p in problems), problems


def test_a_document_that_no_longer_verifies_is_caught(acks: list[Ack]) -> None:
    number = _acked(acks, "issue")[0]["document"]
    doc = IssuedDocument.objects.get(number=number)
    pdf = bytearray(doc.pdf)
    pdf[500] ^= 0x01
    IssuedDocument.objects.filter(pk=doc.pk).update(pdf=bytes(pdf))
    assert any(f"document {number} does not verify: forged" in p for p in _problems(acks))


def test_an_application_left_between_two_states_is_caught(acks: list[Ack]) -> None:
    reference = _acked(acks, "issue")[1]["reference"]
    Application.objects.filter(reference=reference).update(status="approved")
    problems = _problems(acks)
    assert any(p.startswith(f"{reference} is “approved” with document") for p in problems)


def test_a_broken_audit_chain_is_caught(acks: list[Ack]) -> None:
    AuditEvent.objects.filter(seq=3).update(actor="someone-else")
    assert "audit chain: seq 3: row content was changed" in _problems(acks)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda acks: {**acks[0], "amount": acks[0]["amount"] + 1},
        lambda acks: {"op": "approve", "reference": "C03-26-999999"},
    ],
    ids=["wrong amount", "unknown application"],
)
def test_any_ack_the_database_cannot_back_is_caught(
    acks: list[Ack], break_it: Callable[[list[Ack]], dict[str, Any]]
) -> None:
    assert _problems([*acks, break_it(acks)]) != []
