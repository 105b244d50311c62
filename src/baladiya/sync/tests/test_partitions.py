"""Partitions between two real nodes: a center (SQLite, `baladiya` CLI processes) talks to the
central node (`baladiya run`) through a fault-injecting proxy on loopback. After each fault a
plain `baladiya sync --once` must converge, and central must hold everything the center
acknowledged to citizens exactly once (DESIGN §5 invariants 2–4, decision 0009).

One central and one center for the whole module (starting central costs ~10 s); the tests
run in file order and build on each other's data, each checking the invariants on all of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import glob
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import httpx
import pytest

from baladiya.sync.tests.faultproxy import Exchange, FaultProxy
from baladiya.sync.tests.twonodes import (
    Node,
    center_node,
    central_node,
    drop_central_database,
    enrolment_code,
    json_line,
)

pytestmark = [pytest.mark.slow]

PUSH = "/sync/v1/push"
BATCH = 5  # small batches: a round has several, so a fault can hit one in the middle
UNREACHABLE_AR = "تعذّر الوصول إلى العقدة المركزية"
# Where Debian's `faketime` package puts the library (multiarch folder), or a local build.
LIBFAKETIME = (
    "/usr/lib/*/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
)


@dataclasses.dataclass
class Link:
    central: Node
    center: Node
    proxy: FaultProxy
    served: list[dict[str, str]] = dataclasses.field(default_factory=list)
    verified: set[str] = dataclasses.field(default_factory=set)

    def _on_center(self, env: dict[str, str] | None) -> Node:
        return dataclasses.replace(self.center, env={**self.center.env, **(env or {})})

    def serve(self, count: int, env: dict[str, str] | None = None) -> list[dict[str, str]]:
        """`count` new citizens served at the center's counter (paid, document issued)."""
        start = str(len(self.served))
        out = self._on_center(env).python("baladiya.sync.tests.offline_counter", str(count), start)
        served: list[dict[str, str]] = json_line(out)
        assert len(served) == count
        self.served.extend(served)
        return served

    def sync(self, env: dict[str, str] | None = None, ok: bool = True) -> CompletedProcess[str]:
        out = self._on_center(env).cli("sync", "--once", check=ok, timeout=300)
        if not ok:
            assert out.returncode == 2, out.stdout + out.stderr
        return out

    def unsent(self) -> int:
        return int(
            self.center.sql("select count(*) from sync_outboxevent where sent_at is null")[0][0]
        )

    def last_outbox_seq(self) -> int:
        return int(self.center.sql("select coalesce(max(seq), 0) from sync_outboxevent")[0][0])

    def central_seq(self) -> int:
        rows = self.central.sql(
            "select coalesce(max(seq), 0) from sync_inboundevent where center = %s", ("C03",)
        )
        return int(rows[0][0])

    def inbound(self, first: int, last: int) -> list[tuple[Any, ...]]:
        return self.central.sql(
            "select seq, event_id, received_at from sync_inboundevent"
            " where center = %s and seq between %s and %s order by seq",
            ("C03", first, last),
        )


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Link]:
    folder = tmp_path_factory.mktemp("partitions")
    central = central_node(folder / "central")
    central.start()
    proxy = FaultProxy(central.port).start()
    try:
        center = center_node(folder / "c03")
        center.env["BALADIYA_SYNC_BATCH_SIZE"] = str(BATCH)
        # Enrolled with the proxy's address: every sync request passes through it.
        out = center.cli(
            "center", "enroll", "--central", proxy.url, "--code", enrolment_code(central)
        )
        assert "Enrolled as C03" in out.stdout
        yield Link(central, center, proxy)
    finally:
        proxy.close()
        central.stop()
        drop_central_database(central)


@pytest.fixture(autouse=True)
def _disarmed(link: Link) -> Iterator[None]:
    """A test that fails half-way must not leave a fault armed for the next one."""
    yield
    link.proxy.clear()
    link.proxy.set_down(False)
    link.proxy.wait_idle()


def assert_converged(link: Link) -> None:
    """Everything the center did is on central exactly once, in order, with no conflict."""
    central, center = link.central, link.center
    assert link.unsent() == 0
    last = link.last_outbox_seq()
    # Applied through the center's last event, each event at most once. (A batch leaves out
    # snapshots that a later event of the same batch replaces: not every number is a row.)
    assert central.sql(
        "select max(seq), count(*) - count(distinct seq), count(*) - count(distinct event_id)"
        " from sync_inboundevent where center = %s",
        ("C03",),
    ) == [(last, 0, 0)]
    assert not central.sql(
        "select center, seq from sync_inboundevent group by center, seq having count(*) > 1"
    )
    # ...and each is the center's event of that number, not another one.
    pushed = {
        seq: _hex(event_id)
        for seq, event_id in center.sql("select seq, event_id from sync_outboxevent")
    }
    for seq, event_id in central.sql(
        "select seq, event_id from sync_inboundevent where center = %s", ("C03",)
    ):
        assert pushed[seq] == _hex(event_id), seq
    assert central.sql(
        "select n.last_seq from sync_centernode n join centers_center c on c.id = n.center_id"
        " where c.code = %s",
        ("C03",),
    ) == [(last,)]
    assert central.sql("select count(*) from sync_syncconflict") == [(0,)]
    assert center.sql("select failures, last_error from sync_syncstate") == [(0, "")]
    # Every application, receipt and document a citizen was given: there, once.
    for table, column, key in (
        ("applications_application", "reference", "reference"),
        ("payments_receipt", "number", "receipt"),
        ("documents_issueddocument", "number", "document"),
    ):
        wanted = sorted(item[key] for item in link.served)
        found = central.sql(
            f"select {column}, count(*) from {table} where {column} like %s group by {column}",  # noqa: S608
            ("C03-%",),
        )
        counts = {value: n for value, n in found}
        assert {v: counts.get(v, 0) for v in wanted} == dict.fromkeys(wanted, 1), table
    # The documents verify on central's public page (served once each, to save time).
    for item in link.served:
        if item["document"] in link.verified:
            continue
        page = httpx.get(
            f"{central.url}/verify/{item['document']}/",
            headers={"Accept-Language": "en"},
            follow_redirects=True,
            timeout=30,
        )
        assert page.status_code == 200 and "Valid" in page.text, page.text[:500]
        link.verified.add(item["document"])


def _hex(value: Any) -> str:
    """A UUID as SQLite (32 hex digits) or PostgreSQL (uuid) hands it back."""
    return str(value).replace("-", "")


def _pushes(link: Link, since: int) -> list[Exchange]:
    return link.proxy.exchanges(PUSH, since=since)


# ---------------------------------------------------------------- the faults


def test_link_cut_mid_batch(link: Link) -> None:
    link.serve(3)
    start = link.central_seq()
    mark = link.proxy.mark()
    link.proxy.inject("cut_request", after=1)  # the round's second batch, half of its body
    failed = link.sync(ok=False)
    assert UNREACHABLE_AR in failed.stdout

    first, cut = _pushes(link, mark)
    assert (first.fault, cut.fault) == ("", "cut_request")
    assert 0 < cut.forwarded_bytes < cut.request_bytes and not cut.answered
    assert cut.statuses[0] in (400, 403)  # central refused the stump: signature or body
    # Only the first batch is on central; the cut one is still waiting at the center.
    assert first.last_json["applied_through"] == start + BATCH == link.central_seq()
    assert link.unsent() == link.last_outbox_seq() - start - BATCH

    link.sync()
    assert_converged(link)


def test_response_lost_after_commit_is_deduplicated(link: Link) -> None:
    link.serve(2)
    start = link.central_seq()
    mark = link.proxy.mark()
    link.proxy.inject("drop_response")  # central commits the first batch; its answer is lost
    link.sync(ok=False)

    (dropped,) = _pushes(link, mark)
    assert dropped.statuses == [200] and not dropped.answered
    assert dropped.last_json["applied"] > 0
    through = int(dropped.last_json["applied_through"])
    assert through == start + BATCH == link.central_seq()
    # The center does not know: it still holds those events as unsent.
    assert link.unsent() == link.last_outbox_seq() - start
    committed = link.inbound(start + 1, through)
    assert len(committed) == dropped.last_json["applied"]

    resend_mark = link.proxy.mark()
    link.sync()
    resend = _pushes(link, resend_mark)[0]
    assert resend.statuses == [200]
    assert resend.answered and resend.request_bytes == dropped.request_bytes  # the same batch
    assert resend.last_json["applied"] == 0
    assert resend.last_json["duplicates"] == dropped.last_json["applied"]
    assert link.inbound(start + 1, through) == committed  # not applied twice, not restamped
    assert_converged(link)


def test_replayed_requests_change_nothing(link: Link) -> None:
    link.serve(2)
    start = link.central_seq()
    mark = link.proxy.mark()
    link.proxy.inject("duplicate", prefix="/sync/v1/", count=1000)  # every request, twice
    link.sync()
    link.proxy.clear()

    pushes = _pushes(link, mark)
    assert len(pushes) >= 2 and all(e.fault == "duplicate" for e in pushes)
    for push in pushes:
        first, second = (a.json or {} for a in push.answers)
        assert push.statuses == [200, 200] and push.answered
        assert first["applied"] > 0 and second["applied"] == 0
        assert second["duplicates"] == first["applied"]
        assert second["applied_through"] == first["applied_through"]
    # Each event applied once: as many rows on central as the answers said were applied.
    # (Not the width of the seq range: a batch leaves out snapshots that a later event of
    # the same batch replaces, and which ones depends on when the pump's SMS updates land.)
    recorded = link.central.sql(
        "select count(*) from sync_inboundevent where center = %s and seq > %s", ("C03", start)
    )
    assert sum((a.json or {})["applied"] for p in pushes for a in p.answers) == recorded[0][0]
    link.sync()
    assert_converged(link)


def test_stale_batch_after_a_newer_one(link: Link) -> None:
    link.serve(2)
    mark = link.proxy.mark()
    # The round's second batch is held until the center has timed out and sent it again;
    # then the stale copy reaches central, after the newer one.
    link.proxy.inject("hold_and_release", after=1, release_after=1)
    link.sync(env={"BALADIYA_SYNC_TIMEOUT_SECONDS": "3"}, ok=False)
    held = next(e for e in _pushes(link, mark) if e.fault == "hold_and_release")
    assert held.answers == []  # central has not seen it yet

    retry_mark = link.proxy.mark()
    link.sync()
    link.proxy.wait_idle()
    newer = _pushes(link, retry_mark)[0]
    assert held.statuses == [200] and not held.answered
    assert held.answers[0].at > newer.answers[0].at  # delivered after the newer copy
    assert held.last_json["applied"] == 0
    assert held.last_json["duplicates"] == newer.last_json["applied"] > 0
    # No gap was reported to anyone, and nothing was applied twice.
    assert all(409 not in e.statuses for e in link.proxy.exchanges(since=mark))
    assert_converged(link)


def test_central_down_for_a_day(link: Link) -> None:
    link.proxy.set_down(True)  # the port refuses connections: the server is off
    mark = link.proxy.mark()
    served = link.serve(40)  # a day at the counter
    failed = link.sync(ok=False)
    assert UNREACHABLE_AR in failed.stdout
    assert link.proxy.exchanges(since=mark) == []  # refused before any request
    # Later the same day: the machine answers, the application does not (connection reset).
    link.proxy.set_down(False)
    link.proxy.inject("down", prefix="/sync/v1/", count=1)
    failed = link.sync(ok=False)
    assert UNREACHABLE_AR in failed.stdout
    assert [(e.path, e.fault, e.answers) for e in link.proxy.exchanges(since=mark)] == [
        ("/sync/v1/heartbeat", "down", [])
    ]
    assert link.center.sql("select failures from sync_syncstate") == [(2,)]  # backing off
    waiting = link.unsent()
    assert waiting > 40

    back = link.proxy.mark()
    link.sync()  # one round catches the whole day up
    pushes = _pushes(link, back)
    assert len(pushes) == -(-waiting // BATCH) and all(p.statuses == [200] for p in pushes)
    assert {item["reference"] for item in served} <= {i["reference"] for i in link.served}
    assert_converged(link)


def _libfaketime() -> str | None:
    found = (sorted(glob.glob(pattern)) for pattern in LIBFAKETIME)
    return next((paths[0] for paths in found if paths), None)


def _utc(value: Any) -> dt.datetime:
    """A timestamp as stored: aware from PostgreSQL, naive UTC text from SQLite."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("offset", ["-5h", "+7h"])
def test_center_clock_off_by_hours(link: Link, offset: str) -> None:
    library = _libfaketime()
    if library is None:
        pytest.skip("libfaketime is not installed (Debian package `faketime`: make system-deps)")
    fake = {
        "LD_PRELOAD": library,
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # timeouts keep real time
    }
    hours = int(offset.removesuffix("h"))
    before_seq = link.last_outbox_seq()
    real_start = dt.datetime.now(dt.UTC)
    link.serve(2, env=fake)
    link.sync(env=fake)
    real_end = dt.datetime.now(dt.UTC)

    # The center's own stamps follow its (wrong) clock...
    made = [
        _utc(v)
        for (v,) in link.center.sql(
            "select created_at from sync_outboxevent where seq > %s", (before_seq,)
        )
    ]
    assert made
    skew = dt.timedelta(hours=hours)
    slack = dt.timedelta(minutes=5)
    assert all(real_start + skew - slack <= m <= real_end + skew + slack for m in made)
    # ...central stamps what it received with its own.
    received = link.inbound(before_seq + 1, link.last_outbox_seq())
    assert received and received[-1][0] == link.last_outbox_seq()
    margin = dt.timedelta(seconds=5)
    assert all(real_start - margin <= _utc(at) <= real_end + margin for _s, _e, at in received)
    assert_converged(link)


def test_enrolment_answer_lost_then_retried(link: Link, tmp_path: Path) -> None:
    """Central enrolled the PC but its answer never arrived: running the same command again
    (same one-time code, same key) must finish the enrolment, not lock the PC out."""
    code = enrolment_code(link.central, "C04")
    pc = center_node(tmp_path / "c04", "C04")
    mark = link.proxy.mark()
    link.proxy.inject("drop_response", prefix="/sync/v1/enrol")
    lost = pc.cli("center", "enroll", "--central", link.proxy.url, "--code", code, check=False)
    assert lost.returncode == 2, lost.stdout + lost.stderr
    (dropped,) = link.proxy.exchanges("/sync/v1/enrol", since=mark)
    assert dropped.statuses == [200] and not dropped.answered  # enrolled centrally

    again = pc.cli("center", "enroll", "--central", link.proxy.url, "--code", code, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Enrolled as C04" in again.stdout
    (key_id,) = pc.sql("select key_id from documents_signingkey where node = 'center:C04'")[0]
    assert link.central.sql(
        "select key_id, revoked_at from documents_signingkey where node = %s", ("center:C04",)
    ) == [(key_id, None)]
    # Enrolled once, not as a replacement of itself (no 1,000-number jump, no revoked key).
    assert link.central.sql(
        "select count(*) from core_auditevent where action = %s and center = %s",
        ("sync.node_enrolled", "C04"),
    ) == [(1,)]
    assert (
        pc.sql("select coalesce(max(value), 0) from core_counter where scope = 'C04'")[0][0] < 1000
    )
    assert pc.sql("select count(*) from sync_outboxevent where sent_at is null") == [(0,)]
    assert link.central.sql("select count(*) from sync_syncconflict") == [(0,)]
