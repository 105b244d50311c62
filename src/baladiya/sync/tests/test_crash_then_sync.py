"""Power cuts, then sync (issue 4 point 5): an enrolled center node is killed with SIGKILL at
random points while it serves citizens, restarted each time, and syncs with the central node
between kills and at the end. Everything it acknowledged reaches central exactly once, its
numbers have no gap or double there, and its audit chain arrives whole."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from baladiya.core import crashtest
from baladiya.sync.tests.twonodes import (
    ROOT,
    Node,
    central_node,
    drop_central_database,
    enrolment_code,
)

pytestmark = [pytest.mark.slow]
KILLS = 15


def _center(folder: Path) -> Node:
    """A center node laid out as the crash harness runs it (its database, var and keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / crashtest.DB_NAME
    env = crashtest.child_env(db)
    env["PYTHONPATH"] = str(ROOT / "src")
    node = Node("center C03", folder, env)
    node.cli("manage", "migrate", "--verbosity", "0")
    return node


def _central_problems(central: Node, center: Node, acks: list[crashtest.Ack]) -> list[str]:
    problems = []
    columns = {
        "submit": ("applications_application", "reference", "reference"),
        "receipt": ("payments_receipt", "number", "receipt"),
        "issue": ("documents_issueddocument", "number", "document"),
        "refund": ("payments_refund", "number", "refund"),
    }
    for ack in acks:
        if ack["op"] not in columns:
            continue
        table, column, key = columns[ack["op"]]
        query = f"select count(*) from {table} where {column} = %s"  # noqa: S608 - fixed names
        found = central.sql(query, (ack[key],))
        if found != [(1,)]:
            problems.append(f"{ack['op']} {ack[key]}: {found[0][0]} rows centrally")
    for series, table, column in (
        ("R", "payments_receipt", "number"),
        ("D", "documents_issueddocument", "number"),
    ):
        query = f"select {column} from {table} where {column} like %s"  # noqa: S608 - fixed names
        numbers = sorted(
            int(n.rsplit("-", 1)[1]) for (n,) in central.sql(query, (f"C03-{series}%",))
        )
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"series {series} has a gap or a double centrally")
    if center.sql("select count(*) from sync_outboxevent where sent_at is null") != [(0,)]:
        problems.append("the center still has unsent events")
    if central.sql("select count(*) from sync_syncconflict") != [(0,)]:
        problems.append("central listed conflicts")
    chain = central.cli("audit", "verify", "--center", "C03", check=False)
    if chain.returncode != 0:
        problems.append(f"the center's audit chain does not verify centrally: {chain.stdout}")
    return problems


def test_kills_then_sync_lose_nothing(tmp_path: Path) -> None:
    central = central_node(tmp_path / "central")
    central.start()
    try:
        center = _center(tmp_path / "c03")
        center.cli("center", "enroll", "--central", central.url, "--code", enrolment_code(central))
        synced: list[int] = []

        def sync_now(i: int, db: Path) -> None:
            if i % 5 == 4:  # now and then while the node is down between kills
                center.cli("sync", "--once")
                synced.append(i)

        report = crashtest.run_crash_test(
            KILLS,
            seed=int(os.environ.get("BALADIYA_CRASH_SEED", "7")),
            db_dir=center.folder,
            enrolled=True,
            hooks=crashtest.CrashHooks(
                after_kill=sync_now,
                before_checks=lambda db: center.cli("sync", "--once") and None,
                extra_checks=lambda db: _central_problems(
                    central, center, crashtest.read_acks(center.folder / crashtest.ACKS_NAME)
                ),
            ),
        )
        assert report.kills == KILLS and synced == [4, 9, 14]
        assert report.ack_counts["receipt"] > 0 and report.ack_counts["issue"] > 0
        assert report.problems == [], report.problems
    finally:
        central.stop()
        drop_central_database(central)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
