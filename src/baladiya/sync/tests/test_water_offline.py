"""End to end, three real nodes: water bills pulled beforehand are collected at two center
nodes while the link is down; the same bill taken at both becomes an overpayment credit
flagged for refund, never dropped (decision 0009 rule 5); later bills and payments made
elsewhere reach the centers by themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from baladiya.sync.tests.twonodes import (
    center_node,
    central_node,
    drop_central_database,
    enrolment_code,
    json_line,
)
from baladiya.sync.tests.water_scripts import METER

pytestmark = [pytest.mark.slow]
SCRIPTS = "baladiya.sync.tests.water_scripts"


def test_bills_collected_at_two_offline_centers(tmp_path: Path) -> None:
    central = central_node(tmp_path / "central")
    central.start()
    c03 = center_node(tmp_path / "c03", "C03")
    c05 = center_node(tmp_path / "c05", "C05")
    try:
        made = json_line(central.python(SCRIPTS, "central-meter"))
        amounts = made["amounts"]
        for node, code in ((c03, "C03"), (c05, "C05")):
            node.cli(
                "center",
                "enroll",
                "--central",
                central.url,
                "--code",
                enrolment_code(central, code),
            )
            # Pulled beforehand: the meter's unpaid bills are at both counters.
            assert json_line(node.python(SCRIPTS, "bills", METER)) == dict.fromkeys(
                amounts, "unpaid"
            )

        central.stop()  # the link is down at both centers from here
        at_c03 = json_line(c03.python(SCRIPTS, "center-pay", "C03", METER, "2026-01,2026-02"))
        at_c05 = json_line(c05.python(SCRIPTS, "center-pay", "C05", METER, "2026-02,2026-03"))
        assert at_c03["amount"] == amounts["2026-01"] + amounts["2026-02"]
        assert at_c05["amount"] == amounts["2026-02"] + amounts["2026-03"]

        central.start()
        c03.cli("sync", "--once")
        c05.cli("sync", "--once")

        states = central.sql(
            "select b.cycle, b.state from water_bill b join water_subscription s"
            " on s.id = b.subscription_id where s.meter_number = %s order by b.cycle",
            (METER,),
        )
        assert states == [("2026-01", "paid"), ("2026-02", "paid"), ("2026-03", "paid")]
        payments = central.sql(
            "select b.cycle, r.number, p.amount, p.overpayment from water_billpayment p"
            " join water_bill b on b.id = p.bill_id join payments_receipt r on r.id = p.receipt_id"
            " order by b.cycle, p.overpayment",
        )
        # Every shilling a citizen holds a receipt for is there; cycle 2026-02 twice, C05's
        # payment (applied second) is the credit to refund.
        assert payments == [
            ("2026-01", at_c03["receipt"], amounts["2026-01"], False),
            ("2026-02", at_c03["receipt"], amounts["2026-02"], False),
            ("2026-02", at_c05["receipt"], amounts["2026-02"], True),
            ("2026-03", at_c05["receipt"], amounts["2026-03"], False),
        ]
        receipts = central.sql(
            "select coalesce(sum(amount), 0) from payments_receipt where number in (%s, %s)",
            (at_c03["receipt"], at_c05["receipt"]),
        )
        assert receipts == [(sum(p[2] for p in payments),)]
        flagged = central.sql(
            "select reason from sync_syncconflict where model = 'water.billpayment'"
        )
        assert len(flagged) == 1 and at_c05["receipt"] in flagged[0][0], flagged

        # The establishment's next bill comes down; paid at C01, C03 sees it paid.
        json_line(central.python(SCRIPTS, "central-bill", METER, "2026-04"))
        c03.cli("sync", "--once")
        assert json_line(c03.python(SCRIPTS, "bills", METER))["2026-04"] == "unpaid"
        json_line(central.python(SCRIPTS, "central-pay", METER, "2026-04"))
        c03.cli("sync", "--once")
        c05.cli("sync", "--once")
        for node in (c03, c05):
            assert json_line(node.python(SCRIPTS, "bills", METER)) == {
                "2026-01": "paid",
                "2026-02": "paid",
                "2026-03": "paid",
                "2026-04": "paid",
            }
    finally:
        central.stop()
        drop_central_database(central)
