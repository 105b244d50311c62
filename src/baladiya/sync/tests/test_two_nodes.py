"""End to end, two real nodes: a center serves citizens while the central node is down,
then catches up by itself; what it did is on the central node, and its documents verify
there (DESIGN §5 invariants 2–4 across the link)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from django.utils import timezone

from baladiya.sync.tests.twonodes import (
    center_node,
    central_node,
    drop_central_database,
    enrolment_code,
    json_line,
)

pytestmark = [pytest.mark.slow]


def test_a_center_works_offline_and_catches_up(tmp_path: Path) -> None:
    central = central_node(tmp_path / "central")
    central.start()
    center = center_node(tmp_path / "c03")
    try:
        out = center.cli(
            "center", "enroll", "--central", central.url, "--code", enrolment_code(central)
        )
        assert "Enrolled as C03" in out.stdout
        # The snapshot brought the center its staff and the catalog.
        assert (
            center.sql("select count(*) from accounts_user where center_id is not null")[0][0] > 0
        )
        assert center.sql("select count(*) from catalog_service")[0][0] >= 10
        assert center.sql("select count(*) from water_slab") == [(5,)]  # tariffs, for bills

        central.stop()  # the link is down from here
        served = json_line(center.python("baladiya.sync.tests.offline_counter", "3"))
        yy = f"{timezone.localdate().year % 100:02d}"  # the year in Homs, not in UTC
        assert [s["reference"] for s in served] == [f"C03-{yy}-00000{i}" for i in (1, 2, 3)]
        failed = center.cli("sync", "--once", check=False)
        assert failed.returncode == 2
        # Arabic first, as the clerk reads it.
        assert "تعذّر الوصول إلى العقدة المركزية" in failed.stdout

        central.start()  # back: one round catches up
        center.cli("sync", "--once")
        for item in served:
            rows = central.sql(
                "select status from applications_application where reference = %s",
                (item["reference"],),
            )
            assert rows == [("ready_for_pickup",)]
            assert central.sql(
                "select count(*) from payments_receipt where number = %s", (item["receipt"],)
            ) == [(1,)]
            page = httpx.get(
                f"{central.url}/verify/{item['document']}/",
                headers={"Accept-Language": "en"},
                follow_redirects=True,
            )
            assert page.status_code == 200 and "Valid" in page.text, page.text[:500]
        backlog = center.sql("select count(*) from sync_outboxevent where sent_at is null")
        assert backlog == [(0,)]
        # The center's own audit chain arrived whole and verifies centrally.
        assert "chain intact" in central.cli("audit", "verify", "--center", "C03").stdout
        # A second round has nothing to send and changes nothing centrally.
        before = central.sql("select count(*) from sync_inboundevent")
        center.cli("sync", "--once")
        assert central.sql("select count(*) from sync_inboundevent") == before

        # A document issued centrally for pickup at C03 comes down with the next round and is
        # handed over there while the link is down again.
        online = json_line(central.python("baladiya.sync.tests.pickup_scripts", "central-issue"))
        assert online["status"] == "ready_for_pickup"
        center.cli("sync", "--once")
        central.stop()
        handed = json_line(
            center.python(
                "baladiya.sync.tests.pickup_scripts",
                "center-hand-over",
                online["reference"],
                online["national_number"],
            )
        )
        assert handed["status"] == "handed_over"
        central.start()
        center.cli("sync", "--once")
        assert central.sql(
            "select status from applications_application where reference = %s",
            (online["reference"],),
        ) == [("handed_over",)]
        assert central.sql(
            "select count(*) from delivery_handover h join applications_application a"
            " on a.id = h.application_id where a.reference = %s",
            (online["reference"],),
        ) == [(1,)]
        assert central.sql("select model, reason from sync_syncconflict") == []

        # Running as a service, the center syncs by itself (and reports its heartbeat).
        center.env["BALADIYA_SYNC_INTERVAL_SECONDS"] = "1"
        center.start(background=True)
        later = json_line(center.python("baladiya.sync.tests.offline_counter", "1", "50"))
        reference = later[0]["reference"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = central.sql(
                "select status from applications_application where reference = %s", (reference,)
            )
            if status == [("ready_for_pickup",)]:
                break
            time.sleep(0.5)
        assert status == [("ready_for_pickup",)]
        assert central.sql(
            "select s.online from centers_centerstatus s join centers_center c"
            " on c.id = s.center_id where c.code = 'C03'"
        ) in ([(True,)], [(1,)])
    finally:
        center.stop()
        central.stop()
        drop_central_database(central)
