"""The daily collections file for the water establishment (its totals are the day's water
receipts, a bill paid twice included and flagged), sent through the establishment interface
with retries; and the establishment's files fetched and imported through the same interface."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center
from baladiya.core.models import AuditEvent
from baladiya.payments import services as pay
from baladiya.payments.models import Receipt, Refund
from baladiya.water.collections import collections_file, send_collections
from baladiya.water.exchange import (
    EstablishmentRefused,
    EstablishmentUnavailable,
    SandboxEstablishment,
    check_collections_file,
    get_establishment,
)
from baladiya.water.importing import fetch_and_import
from baladiya.water.models import (
    Bill,
    BillPayment,
    Category,
    CollectionExport,
    ImportBatch,
    Subscription,
)
from baladiya.water.samples import BILLS, READINGS, SUBSCRIBERS, csv_bytes
from baladiya.water.services import pay_bills, record_bill

pytestmark = pytest.mark.django_db


def _meter(citizen: Citizen, number: str) -> Subscription:
    return Subscription.objects.create(
        meter_number=number,
        subscriber=citizen,
        address="حي الإنشاءات",
        category=Category.HOUSEHOLD,
        active_since=dt.date(2015, 3, 1),
    )


def _bill(meter: Subscription, cycle: str, end: dt.date, used: int, ref: str = "") -> Bill:
    bill, _ = record_bill(meter, cycle, end, 1000, 1000 + used, external_ref=ref)
    return bill


@pytest.fixture
def paid_day(tariffs: None, citizen: Citizen, cashier: User, center: Center) -> dt.date:
    """At C03 today: one receipt for two bills of one meter, one for a bill of another; a
    bill of a third meter paid twice (the second an overpayment, as when two offline centers
    both took it), then the overpayment refunded."""
    pay.open_session(cashier, 0)
    first, second, third = (_meter(citizen, f"HMS-10{i}") for i in range(3))
    pay_bills(
        [
            _bill(first, "2026-01", dt.date(2026, 2, 28), 40, "EB-1"),  # 6,000
            _bill(first, "2026-02", dt.date(2026, 4, 30), 60, "EB-2"),  # 24,000
        ],
        cashier,
        center,
    )
    pay_bills([_bill(second, "2026-01", dt.date(2026, 2, 28), 90, "EB-3")], cashier, center)
    twice = _bill(third, "2026-01", dt.date(2026, 2, 28), 20)  # 3,000
    pay_bills([twice], cashier, center)
    again = pay.take_cash(cashier, center, twice.amount, citizen.full_name, "water, again")
    BillPayment.objects.create(bill=twice, receipt=again, amount=twice.amount, overpayment=True)
    pay.refund_receipt(again, cashier, "paid twice")
    # Not water: an ordinary receipt the same day is not in the file.
    pay.take_cash(cashier, center, 12_345, citizen.full_name, "cleaning fee")
    _unpaid = _bill(first, "2026-03", dt.date(2026, 6, 30), 10)
    return timezone.localdate()


def _lines(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def test_the_collections_file_totals_are_the_days_water_receipts(paid_day: dt.date) -> None:
    made = collections_file(paid_day)
    rows = _lines(made.content)
    header, lines, total = rows[0], rows[1:-1], rows[-1]
    assert header[:6] == [
        "receipt_number",
        "center",
        "meter_number",
        "cycle",
        "bill_id",
        "amount_piastres",
    ]
    assert len(lines) == 5 and made.name == f"collections-{paid_day.isoformat()}.csv"
    water_receipts = Receipt.objects.filter(business_date=paid_day, bill_payments__isnull=False)
    expected = sum(r.amount for r in water_receipts.distinct())
    assert expected == 6_000 + 24_000 + 90 * 1_500 + 3_000 + 3_000
    assert int(total[5]) == made.amount == expected
    assert sum(int(line[5]) for line in lines) == expected
    assert total[0] == "TOTAL" and int(total[1]) == 5
    # The second payment of the same bill is cash held too, flagged for the refund it got.
    flagged = [line for line in lines if line[8] == "1"]
    assert len(flagged) == 1 and int(total[8]) == made.overpayment == 3_000
    assert Refund.objects.aggregate(s=Sum("amount"))["s"] == 3_000
    assert {line[1] for line in lines} == {"C03"} and {line[6] for line in lines} == {"cash"}
    assert [line[0] for line in lines] == sorted(line[0] for line in lines)
    assert {line[4] for line in lines} >= {"EB-1", "EB-2", "EB-3"}
    assert lines[0][7].endswith("+03:00")  # Damascus time
    assert check_collections_file(made.content) == ""
    # Nothing paid another day: an empty file with a zero totals line.
    empty = collections_file(paid_day - dt.timedelta(days=1))
    assert _lines(empty.content)[1:] == [["TOTAL", "0", "", "", "", "0", "", "", "0"]]


def test_sending_is_acknowledged_and_resending_sends_the_same(
    paid_day: dt.date, sandbox: SandboxEstablishment, officer: User
) -> None:
    export = send_collections(paid_day, officer)
    received = sandbox.received(export.file_name)
    assert received == collections_file(paid_day).content
    again = send_collections(paid_day, officer)
    assert again.acknowledgement == export.acknowledgement and again.sha256 == export.sha256
    assert sandbox.received(export.file_name) == received
    assert CollectionExport.objects.count() == 2
    assert AuditEvent.objects.filter(action="water.collections_sent").count() == 2


def test_a_failure_or_time_out_is_tried_again(
    paid_day: dt.date, sandbox: SandboxEstablishment, officer: User
) -> None:
    waits: list[float] = []
    sandbox.fail_next(1)
    sandbox.fail_next(1, timeout=True)
    export = send_collections(paid_day, officer, sleep=waits.append)
    assert waits == [2.0, 4.0] and export.acknowledgement.startswith("WE-")

    sandbox.fail_next(3)
    with pytest.raises(EstablishmentUnavailable):
        send_collections(paid_day, officer, sleep=waits.append)
    assert CollectionExport.objects.count() == 1  # a send that never arrived is not recorded


def test_the_establishment_refuses_a_file_whose_totals_do_not_add_up(
    paid_day: dt.date, sandbox: SandboxEstablishment
) -> None:
    content = collections_file(paid_day).content
    forged = content.replace(b"\nTOTAL,5,", b"\nTOTAL,4,")
    assert forged != content
    with pytest.raises(EstablishmentRefused) as refused:
        sandbox.send_collections(paid_day, f"collections-{paid_day}.csv", forged)
    assert refused.value.code == "bad_totals"
    with pytest.raises(EstablishmentRefused):
        sandbox.send_collections(paid_day, "collections-1999-01-01.csv", content)
    assert not (sandbox.root / "inbox").exists() or not any((sandbox.root / "inbox").iterdir())


def test_a_center_node_does_not_send(settings: Any, paid_day: dt.date) -> None:
    settings.BALADIYA_NODE = "center:C03"
    with pytest.raises(Exception) as refused:
        send_collections(paid_day)
    assert getattr(refused.value, "code", "") == "central_only"


def test_the_command_line_sends_a_day(
    paid_day: dt.date, sandbox: SandboxEstablishment, tmp_path: Path
) -> None:
    from baladiya.cli import main

    sandbox.fail_next(1)
    assert main(["water", "export-collections", "--day", paid_day.isoformat()]) == 0
    assert sandbox.received(f"collections-{paid_day.isoformat()}.csv")
    assert main(["water", "export-collections", "--day", "yesterday"]) == 2
    sandbox.fail_next(5)
    assert main(["water", "export-collections", "--day", paid_day.isoformat()]) == 2


# ---------------------------------------------------------------- fetching files


SUBS = [
    ("HMS-5001", "04012345678", "أحمد", "محمد", "الحمصي", "", "الإنشاءات", "", "household",
     "", "2015-03-01"),
    ("HMS-5002", "04088888888", "لمى", "", "الدروبي", "", "الوعر", "", "household", "",
     "2019-03-01"),
]  # fmt: skip


def test_the_establishments_files_are_fetched_imported_and_acknowledged(
    tariffs: None, citizen: Citizen, sandbox: SandboxEstablishment, officer: User
) -> None:
    sandbox.publish("subscribers-2026-03.csv", csv_bytes(SUBSCRIBERS, SUBS))
    readings = [
        ("HMS-5001", "2026-01", "2026-02-28", 10, 50, ""),
        ("HMS-9", "2026-01", "2026-02-28", 1, 2, ""),
    ]
    sandbox.publish("readings-2026-01.csv", csv_bytes(READINGS, readings))
    sandbox.publish("notes.txt", b"hello")
    sandbox.fail_next(1)  # the link drops once: tried again
    results = fetch_and_import(officer, sleep=lambda s: None)
    by_name = {r.name: r for r in results}
    assert set(by_name) == {"subscribers-2026-03.csv", "readings-2026-01.csv", "notes.txt"}
    assert by_name["subscribers-2026-03.csv"].batch.created == 2  # type: ignore[union-attr]
    readings_batch = by_name["readings-2026-01.csv"].batch
    assert readings_batch is not None and (readings_batch.created, readings_batch.failed) == (1, 1)
    assert readings_batch.source == "establishment"
    assert by_name["notes.txt"].error
    # Imported files are taken off the establishment's list; the unknown one stays offered.
    assert [f.name for f in sandbox.incoming()] == ["notes.txt"]
    assert Bill.objects.get().amount == 40 * 150
    # Fetching again finds nothing new to import.
    again = fetch_and_import(officer)
    assert [r.name for r in again] == ["notes.txt"] and ImportBatch.objects.count() == 2


def test_an_unreadable_file_stays_at_the_establishment(
    tariffs: None, sandbox: SandboxEstablishment
) -> None:
    sandbox.publish("bills-2026-01.csv", b"%PDF-1.4 this is a scan")
    [result] = fetch_and_import()
    assert "Only CSV or XLSX" in result.error and result.batch is None
    assert [f.name for f in sandbox.incoming()] == ["bills-2026-01.csv"]


def test_the_establishment_unreachable_throughout_is_reported(
    sandbox: SandboxEstablishment,
) -> None:
    sandbox.fail_next(3, timeout=True)
    with pytest.raises(EstablishmentUnavailable) as down:
        fetch_and_import(sleep=lambda s: None)
    assert down.value.code == "timeout"


def test_the_command_line_fetches(
    tariffs: None, citizen: Citizen, sandbox: SandboxEstablishment, capsys: Any
) -> None:
    from baladiya.cli import main

    assert main(["water", "fetch"]) == 0
    assert "No file waiting" in capsys.readouterr().out
    sandbox.publish("subscribers-1.csv", csv_bytes(SUBSCRIBERS, SUBS))
    assert main(["water", "fetch"]) == 0
    bills = [("HMS-5001", "2026-01", "2026-02-28", 10, 50, 40, 6000, "", "EB-1"),
             ("HMS-5001", "2026-02", "2026-04-30", 50, 40, 0, 0, "", "EB-2")]  # fmt: skip
    sandbox.publish("bills-1.csv", csv_bytes(BILLS, bills))
    assert main(["water", "fetch"]) == 1  # a row refused
    assert "reading" in capsys.readouterr().out.lower()


def test_the_setting_chooses_the_establishment(settings: Any) -> None:
    assert isinstance(get_establishment(), SandboxEstablishment)
    settings.WATER_ESTABLISHMENT = "baladiya.nowhere.Establishment"
    with pytest.raises(Exception) as missing:
        get_establishment()
    assert getattr(missing.value, "code", "") == "no_establishment"
