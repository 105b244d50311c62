"""Importing the water establishment's files: good rows in, bad rows reported with their row
and column and skipped, nothing half-written, and importing again changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Neighbourhood
from baladiya.core.errors import DomainError
from baladiya.core.models import AuditEvent
from baladiya.core.testing import logged_in
from baladiya.water import importing
from baladiya.water.importing import error_report_lines, import_file, issue_message
from baladiya.water.models import Bill, ImportBatch, OwnerPeriod, Subscription
from baladiya.water.samples import (
    BILLS,
    READINGS,
    SUBSCRIBERS,
    SUBSCRIBERS_AR,
    csv_bytes,
    xlsx_bytes,
)
from baladiya.water.services import record_bill

pytestmark = pytest.mark.django_db

SUBSCRIBER_ROWS = [
    # meter, national, first, father, last, mobile, address, neighbourhood, category, status, since
    ("HMS-1001", "04012345678", "أحمد", "محمد", "الحمصي", "", "شارع الحضارة 12",
     "الإنشاءات", "household", "working", "2015-03-01"),
    ("HMS-1002", "04011111111", "رنا", "خالد", "الأتاسي", "0944 123 456", "شارع الدبلان 3",
     "al-Waer", "منزلي", "", "01/06/2019"),
    ("HMS-1003", "04011111111", "رنا", "خالد", "الأتاسي", "", "شارع الدبلان 5",
     "", "commercial", "معطل", "2020-01-15"),
    ("HMS-1004", "04022222222", "عمر", "", "السباعي", "+963955000111", "جورة الشياح",
     "الوعر", "household", "working", "2021-09-30"),
]  # fmt: skip


def _subscribers(rows: list[tuple[Any, ...]] = SUBSCRIBER_ROWS) -> bytes:
    return csv_bytes(SUBSCRIBERS, rows)


@pytest.fixture
def imported(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], citizen: Citizen, officer: User
) -> ImportBatch:
    return import_file(_subscribers(), "subscribers-2026-03.csv", "subscribers", officer)


def _report(batch: ImportBatch) -> list[list[str]]:
    content = b"".join(error_report_lines(batch))
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, so Excel shows the Arabic"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# ---------------------------------------------------------------- subscribers


def test_a_subscribers_file_creates_citizens_subscriptions_and_owner_periods(
    imported: ImportBatch, citizen: Citizen, neighbourhoods: dict[str, Neighbourhood]
) -> None:
    assert (imported.state, imported.rows, imported.created, imported.failed) == ("done", 4, 4, 0)
    assert Subscription.objects.count() == 4 and OwnerPeriod.objects.count() == 4
    # The known citizen is matched by national number (and left as the counter recorded it);
    # one new citizen holds two meters; names are searchable like any other citizen's.
    assert Citizen.objects.count() == 3
    first = Subscription.objects.get(meter_number="HMS-1001")
    assert first.subscriber == citizen and first.neighbourhood == neighbourhoods["inshaat"]
    rana = Citizen.objects.get(national_number="04011111111")
    assert rana.full_name == "رنا خالد الأتاسي" and rana.phone == "+963944123456"
    assert rana.name_normalized == "رنا خالد الاتاسي"
    assert {s.meter_number for s in rana.water_subscriptions.all()} == {"HMS-1002", "HMS-1003"}
    second = Subscription.objects.get(meter_number="HMS-1002")
    assert (second.category, second.meter_status, second.active_since) == (
        "household",
        "working",
        dt.date(2019, 6, 1),
    )
    third = Subscription.objects.get(meter_number="HMS-1003")
    assert (third.category, third.meter_status, third.neighbourhood) == (
        "commercial",
        "broken",
        None,
    )
    period = OwnerPeriod.objects.get(subscription=third)
    assert (period.citizen, period.valid_from, period.valid_to) == (
        rana,
        dt.date(2020, 1, 15),
        None,
    )
    # One audit event for the file, with its figures, not one per row.
    events = AuditEvent.objects.filter(action__startswith="water.")
    assert [e.action for e in events] == ["water.imported"]
    assert events[0].data["created"] == 4 and events[0].data["sha256"] == imported.sha256


def test_arabic_headers_in_another_order_and_xlsx_are_read_alike(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    order = [10, 0, 2, 3, 4, 1, 5, 6, 7, 8, 9]  # columns shuffled
    header = [SUBSCRIBERS_AR[i] for i in order]
    rows: list[list[Any]] = [[row[i] for i in order] for row in SUBSCRIBER_ROWS]
    # Numbers typed into a spreadsheet lose their leading zero; dates are date cells.
    for row in rows:
        row[5] = int(row[5])
        row[0] = dt.datetime.fromisoformat("2015-03-01")
    batch = import_file(xlsx_bytes(header, rows), "subscribers.xlsx", "subscribers", officer)
    assert (batch.rows, batch.created, batch.failed) == (4, 4, 0), _report(batch)
    assert Citizen.objects.filter(national_number="04012345678").exists()
    assert Subscription.objects.get(meter_number="HMS-1004").active_since == dt.date(2015, 3, 1)


def test_an_xlsx_keeps_row_numbers_text_zeros_and_reads_number_cells(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    # The reader hands every number as a float: 1005 must still be meter "1005", 4011111111
    # the national number 04011111111, 944123456 the mobile +963944123456.
    rows: list[list[Any]] = [
        [1005, "04012345678", "أحمد", None, "الحمصي", None, "شارع 1", None, "household",
         None, dt.date(2015, 3, 1)],
        [None] * 11,  # an empty row in the middle: skipped, still counted
        ["HMS-7", 4011111111, "رنا", "خالد", "الأتاسي", 944123456, "شارع 2", "الوعر",
         "household", "working", dt.datetime(2019, 6, 1, 8, 30)],
        ["HMS-8", "0401234", "عمر", None, "السباعي", None, "شارع 3", None, "household",
         None, 44000],  # national number too short, a date typed as a plain number
    ]  # fmt: skip
    # In chunks of two: the next chunk is read (in a thread) while one is committed.
    content = xlsx_bytes(SUBSCRIBERS, rows)
    batch = import_file(content, "subscribers.xlsx", "subscribers", officer, chunk_size=2)
    assert (batch.rows, batch.created, batch.failed) == (3, 2, 1)
    assert {(i.row, i.column, i.code, i.value) for i in batch.issues.all()} == {
        (5, "national_number", "national_number", "0401234"),
        (5, "active_since", "date", "44000"),
    }
    first = Subscription.objects.get(meter_number="1005")
    assert first.subscriber.national_number == "04012345678"
    assert first.active_since == dt.date(2015, 3, 1) and first.subscriber.father_name == ""
    second = Subscription.objects.get(meter_number="HMS-7")
    assert second.subscriber.national_number == "04011111111"
    assert second.subscriber.phone == "+963944123456"
    assert second.active_since == dt.date(2019, 6, 1)


def test_importing_again_changes_nothing(imported: ImportBatch, officer: User) -> None:
    before = {
        s.meter_number: (s.updated_at, s.address, s.subscriber_id)
        for s in Subscription.objects.all()
    }
    counts = (Citizen.objects.count(), Subscription.objects.count(), OwnerPeriod.objects.count())

    same = import_file(_subscribers(), "again.csv", "subscribers", officer)
    assert same.state == "identical" and same.same_as == imported and same.rows == 0

    # Another file with the same rows (reordered, no BOM, semicolons): read, and all unchanged.
    other = csv_bytes(SUBSCRIBERS, list(reversed(SUBSCRIBER_ROWS)), bom=False).replace(b",", b";")
    batch = import_file(other, "reordered.csv", "subscribers", officer)
    assert (batch.state, batch.rows, batch.unchanged, batch.created, batch.updated) == (
        "done",
        4,
        4,
        0,
        0,
    )
    # Forced, the identical file is read again: still nothing to do.
    forced = import_file(_subscribers(), "again.csv", "subscribers", officer, force=True)
    assert forced.unchanged == 4
    after = {
        s.meter_number: (s.updated_at, s.address, s.subscriber_id)
        for s in Subscription.objects.all()
    }
    assert after == before
    assert counts == (
        Citizen.objects.count(),
        Subscription.objects.count(),
        OwnerPeriod.objects.count(),
    )


def test_a_changed_subscriber_row_updates_only_that_subscription(
    imported: ImportBatch, officer: User
) -> None:
    untouched = Subscription.objects.get(meter_number="HMS-1001").updated_at
    rows = list(SUBSCRIBER_ROWS)
    rows[3] = (*rows[3][:6], "جورة الشياح، بناء 7", *rows[3][7:9], "broken", rows[3][10])
    batch = import_file(_subscribers(rows), "march.csv", "subscribers", officer)
    assert (batch.updated, batch.unchanged, batch.created) == (1, 3, 0)
    changed = Subscription.objects.get(meter_number="HMS-1004")
    assert changed.address == "جورة الشياح، بناء 7" and changed.meter_status == "broken"
    assert changed.updated_at > untouched
    assert Subscription.objects.get(meter_number="HMS-1001").updated_at == untouched


def test_a_meter_listed_under_another_subscriber_is_refused(
    imported: ImportBatch, officer: User
) -> None:
    rows = [("HMS-1001", "04099999999", "سامي", "", "العلي", "", "شارع الحضارة 12",
             "", "household", "", "2015-03-01")]  # fmt: skip
    batch = import_file(_subscribers(rows), "transfer.csv", "subscribers", officer)
    assert batch.failed == 1 and batch.created == 0
    issue = batch.issues.get()
    assert (issue.row, issue.column, issue.code) == (2, "national_number", "subscriber_differs")
    assert "04012345678" in issue_message(issue)
    assert not Citizen.objects.filter(national_number="04099999999").exists()


# ---------------------------------------------------------------- bad rows

BAD_SUBSCRIBERS = [
    ("HMS-2001", "4012345678", "سعاد", "", "النحاس", "", "باب هود", "", "household", "", "2020-01-01"),
    ("HMS-2002", "04033333333", "هبة", "", "الجندي", "", "باب هود", "", "villa", "", "2020-01-01"),
    ("HMS-2003", "04044444444", "ريم", "", "العطار", "", "باب هود", "", "household", "", "2020-13-45"),
    ("HMS-2004", "04055555555", "لمى", "", "الشامي", "", "باب هود", "", "household", "", "2020-02-02"),
    ("HMS-2004", "04055555555", "لمى", "", "الشامي", "", "باب هود", "", "household", "", "2020-02-02"),
    ("HMS 2005!", "04066666666", "", "", "الخوري", "0812", "", "Atlantis", "household", "on", "2020-02-02"),
]  # fmt: skip


def test_bad_subscriber_rows_are_reported_and_skipped_good_ones_imported(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    batch = import_file(_subscribers(BAD_SUBSCRIBERS), "bad.csv", "subscribers", officer)
    assert (batch.rows, batch.created, batch.failed) == (6, 1, 5)
    assert list(Subscription.objects.values_list("meter_number", flat=True)) == ["HMS-2004"]
    # Nothing of a refused row is written, not even its citizen.
    assert set(Citizen.objects.values_list("national_number", flat=True)) == {"04055555555"}
    found = {(i.row, i.column, i.code) for i in batch.issues.all()}
    assert found == {
        (2, "national_number", "national_number"),
        (3, "category", "category"),
        (4, "active_since", "date"),
        (6, "meter_number", "duplicate"),
        (7, "meter_number", "meter_number"),
        (7, "first_name", "required"),
        (7, "mobile", "mobile"),
        (7, "address", "required"),
        (7, "neighbourhood", "neighbourhood"),
        (7, "meter_status", "meter_status"),
    }
    report = _report(batch)
    assert report[0] == ["Row", "Column", "Value", "Reason"]
    assert ["2", "national_number", "4012345678", "A national number is exactly 11 digits."] in (
        report
    )
    assert ["6", "meter_number", "HMS-2004", "Repeats row 5 of this file (same meter number)."] in (
        report
    )


def test_the_error_report_keeps_arabic_values_as_they_were(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    rows = [("HMS-3001", "04077777777", "سلمى", "", "الرفاعي", "", "الحميدية", "", "فيلا", "",
             "2020-01-01")]  # fmt: skip
    batch = import_file(_subscribers(rows), "bad.csv", "subscribers", officer)
    assert _report(batch)[1][:3] == ["2", "category", "فيلا"]


READING_ROWS = [
    ("HMS-1001", "2026-01", "2026-02-28", 1160, 1200, ""),  # 40 m³ at 150
    ("HMS-1001", "2026-02", "2026-04-30", 1200, 1260, "0"),  # 60 m³ at 400
    ("HMS-1002", "2026-01", "2026-02-28", 500, 640, "نعم"),  # 140 m³ at 3,000, estimated
    ("HMS-1004", "2026-1", "28/02/2026", 10, 10, "no"),  # nothing used: 0
]


def test_readings_become_bills_priced_with_our_tariff(imported: ImportBatch, officer: User) -> None:
    batch = import_file(csv_bytes(READINGS, READING_ROWS), "readings.csv", "readings", officer)
    assert (batch.rows, batch.created, batch.failed) == (4, 4, 0), _report(batch)
    bills = {(b.subscription.meter_number, b.cycle): b for b in Bill.objects.all()}
    assert bills["HMS-1001", "2026-01"].amount == 40 * 150
    assert bills["HMS-1001", "2026-02"].amount == 60 * 400
    estimated = bills["HMS-1002", "2026-01"]
    assert (estimated.amount, estimated.estimated, estimated.consumption) == (140 * 3000, True, 140)
    assert estimated.due_date == dt.date(2026, 3, 30) and estimated.state == "unpaid"
    assert bills["HMS-1004", "2026-01"].amount == 0
    # The same figures as a bill recorded one by one at the counter (services.record_bill).
    again, created = record_bill(
        Subscription.objects.get(meter_number="HMS-1001"),
        "2026-01",
        dt.date(2026, 2, 28),
        1160,
        1200,
    )
    assert not created and again.pk == bills["HMS-1001", "2026-01"].pk


def test_bad_reading_and_bill_rows_each_reported_good_rows_in(
    imported: ImportBatch, officer: User
) -> None:
    import_file(csv_bytes(READINGS, READING_ROWS[:2]), "first.csv", "readings", officer)
    rows = [
        ("HMS-1001", "2026-01", "2026-02-28", 1160, 1300, ""),  # contradicts the stored bill
        ("HMS-1001", "2026-03", "2026-06-30", 1260, 1250, ""),  # backwards
        ("HMS-9999", "2026-03", "2026-06-30", 1, 2, ""),  # unknown meter
        ("HMS-1002", "2026-03", "2026-06-31", 640, 650, ""),  # no such day
        ("HMS-1002", "2026-13", "2026-06-30", 640, 650, ""),  # no such cycle
        ("HMS-1002", "2026-02", "2026-04-30", 640, 650, "maybe"),  # not a yes/no
        ("HMS-1004", "2026-02", "2026-04-30", 10, 25, ""),  # good
        ("HMS-1004", "2026-02", "2026-04-30", 10, 25, ""),  # repeated
        ("HMS-1001", "2026-02", "2026-04-30", 1200, 1260, "لا"),  # as stored: unchanged
    ]
    batch = import_file(csv_bytes(READINGS, rows), "readings.csv", "readings", officer)
    assert (batch.rows, batch.created, batch.unchanged, batch.failed) == (9, 1, 1, 7)
    assert {(i.row, i.column, i.code) for i in batch.issues.all()} == {
        (2, "cycle", "bill_differs"),
        (3, "current_reading", "reading_backwards"),
        (4, "meter_number", "unknown_meter"),
        (5, "period_end", "date"),
        (6, "cycle", "cycle"),
        (7, "estimated", "flag"),
        (9, "meter_number", "duplicate"),
    }
    stored = Bill.objects.get(subscription__meter_number="HMS-1001", cycle="2026-01")
    assert stored.current_reading == 1200, "a contradicting row never overwrites a bill"
    assert Bill.objects.count() == 3


def test_the_establishments_bills_keep_its_amounts_and_ids(
    imported: ImportBatch, officer: User
) -> None:
    rows = [
        ("HMS-1001", "2026-01", "2026-02-28", 1160, 1200, 40, 6100, "2026-03-31", "EB-1"),
        ("HMS-1002", "2026-01", "2026-02-28", 500, 640, 140, 420000, "", "EB-2"),
        ("HMS-1004", "2026-01", "2026-02-28", 10, 20, 11, 1500, "", "EB-3"),  # 20-10 is not 11
        ("HMS-1003", "2026-01", "2026-02-28", 10, 20, 10, "15.5", "", "EB-4"),  # not piastres
        ("HMS-1003", "2026-02", "2026-04-30", 20, 30, 10, 1500, "2026-04-01", "EB-5"),  # due early
    ]
    batch = import_file(csv_bytes(BILLS, rows), "bills-2026-01.csv", "bills", officer)
    assert (batch.created, batch.failed) == (2, 3)
    assert {(i.row, i.code) for i in batch.issues.all()} == {
        (4, "consumption"),
        (5, "amount"),
        (6, "due_before_end"),
    }
    first = Bill.objects.get(external_ref="EB-1")
    assert (first.amount, first.due_date) == (6100, dt.date(2026, 3, 31))
    assert Bill.objects.get(external_ref="EB-2").due_date == dt.date(2026, 3, 30)

    # The same bill again: unchanged; the same cycle with another amount: refused, kept.
    again = [rows[0], (*rows[0][:6], 6200, *rows[0][7:])]
    batch = import_file(csv_bytes(BILLS, again), "bills-fix.csv", "bills", officer)
    assert (batch.unchanged, batch.failed) == (1, 1)
    assert batch.issues.get().code in {"duplicate", "bill_differs"}
    assert Bill.objects.get(external_ref="EB-1").amount == 6100


def test_bills_in_pounds_and_from_xlsx(imported: ImportBatch, officer: User) -> None:
    header = ["رقم العداد", "الدورة", "نهاية الدورة", "القراءة السابقة", "القراءة الحالية",
              "الاستهلاك", "المبلغ", "رقم الفاتورة"]  # fmt: skip
    rows = [
        ["HMS-1001", "2026-01", dt.datetime(2026, 2, 28), 1160, 1200, 40, "61.50", "EB-1"],
        ["HMS-1002", "٢٠٢٦-٠١", "2026-02-28", 500, 640, 140, 4200, "EB-2"],
        ["HMS-1003", "2026-01", dt.date(2026, 2, 28), 10, 20, 10, 61.5, "EB-3"],
        ["HMS-1004", "2026-01", dt.date(2026, 2, 28), 10, 20, 10, -5, "EB-4"],  # negative
    ]
    batch = import_file(xlsx_bytes(header, rows), "bills.xlsx", "bills", officer)
    assert (batch.created, batch.failed) == (3, 1), _report(batch)
    assert Bill.objects.get(external_ref="EB-1").amount == 6150
    assert Bill.objects.get(external_ref="EB-2").amount == 420000
    assert Bill.objects.get(external_ref="EB-3").amount == 6150
    assert {(i.row, i.column, i.code) for i in batch.issues.all()} == {(5, "المبلغ", "amount")}


def test_reimporting_bills_leaves_every_row_as_it_was(imported: ImportBatch, officer: User) -> None:
    content = csv_bytes(READINGS, READING_ROWS)
    import_file(content, "readings.csv", "readings", officer)
    before = list(Bill.objects.order_by("id").values())
    batch = import_file(content + b"\r\n", "readings-copy.csv", "readings", officer)
    assert (batch.unchanged, batch.created, batch.failed) == (4, 0, 0)
    assert list(Bill.objects.order_by("id").values()) == before


# ---------------------------------------------------------------- whole files


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"%PDF-1.4 not a table", "upload_bad_type"),
        (b"\x89PNG\r\n\x1a\n....", "upload_bad_type"),
        (b"PK\x03\x04 a zip that is no spreadsheet", "upload_bad_type"),
        (b"", "upload_empty"),
        (b"meter_number,cycle\nHMS-1,2026-01\n", "missing_columns"),
    ],
)
def test_a_file_that_is_not_a_table_of_the_kind_is_refused_whole(
    tariffs: None, officer: User, content: bytes, code: str
) -> None:
    with pytest.raises(DomainError) as refused:
        import_file(content, "file.csv", "readings", officer)
    assert refused.value.code == code
    assert not ImportBatch.objects.exists() and not AuditEvent.objects.exists()


def test_a_chunk_is_written_whole_or_not_at_all(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User, monkeypatch: Any
) -> None:
    """Rows go in per chunk, each in one transaction: a failure while writing the second
    chunk leaves the first chunk's rows and none of the second's (no citizen without its
    subscription, no subscription without its owner period)."""
    calls = {"n": 0}
    real = importing._insert

    def failing(model: Any, *args: Any, **kwargs: Any) -> Any:
        if model is OwnerPeriod:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("disk full")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(importing, "_insert", failing)
    with pytest.raises(RuntimeError):
        import_file(_subscribers(), "s.csv", "subscribers", officer, chunk_size=2)
    assert set(Subscription.objects.values_list("meter_number", flat=True)) == {
        "HMS-1001",
        "HMS-1002",
    }
    assert OwnerPeriod.objects.count() == 2
    assert not Citizen.objects.filter(national_number="04022222222").exists()
    interrupted = ImportBatch.objects.get()
    assert (interrupted.state, interrupted.rows) == ("running", 2)
    # Run again (the rest goes in; what was written is recognised).
    monkeypatch.setattr(importing, "_insert", real)
    batch = import_file(_subscribers(), "s.csv", "subscribers", officer, chunk_size=2)
    assert (batch.created, batch.unchanged) == (2, 2)


def test_duplicates_are_found_across_chunks(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    rows = [*SUBSCRIBER_ROWS, SUBSCRIBER_ROWS[0]]
    batch = import_file(_subscribers(rows), "s.csv", "subscribers", officer, chunk_size=2)
    assert (batch.created, batch.failed) == (4, 1)
    assert issue_message(batch.issues.get()) == "Repeats row 2 of this file (same meter number)."


def test_every_bulk_write_is_announced_to_sync(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User, monkeypatch: Any
) -> None:
    seen: list[tuple[str, int]] = []
    monkeypatch.setattr(
        importing.capture,
        "rows_changed",
        lambda model, pks: seen.append((model._meta.label_lower, len(list(pks)))),
    )
    import_file(_subscribers(), "s.csv", "subscribers", officer)
    import_file(csv_bytes(READINGS, READING_ROWS), "r.csv", "readings", officer)
    assert seen == [("water.subscription", 4), ("accounts.citizen", 3), ("water.bill", 4)]


def test_a_center_node_does_not_import(settings: Any, tariffs: None, officer: User) -> None:
    settings.BALADIYA_NODE = "center:C03"
    with pytest.raises(DomainError) as refused:
        import_file(_subscribers(), "s.csv", "subscribers", officer)
    assert refused.value.code == "central_only"


# ---------------------------------------------------------------- the page


def test_an_officer_uploads_a_file_and_sees_what_became_of_each_row(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    client = logged_in(officer)
    page = client.get(reverse("water:exchange_imports"))
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    upload = SimpleUploadedFile("subscribers.csv", _subscribers(BAD_SUBSCRIBERS), "text/csv")
    response = client.post(
        reverse("water:exchange_imports"), {"kind": "subscribers", "file": upload}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "5 rows were refused; the others were imported." in html
    assert "A national number is exactly 11 digits." in html
    batch = ImportBatch.objects.get()
    assert (batch.source, batch.actor, batch.created) == ("upload", officer, 1)
    report = client.get(reverse("water:exchange_import_errors", args=[batch.pk]))
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    body = b"".join(report.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"\xef\xbb\xbfRow,Column")
    listing = client.get(reverse("water:exchange_imports")).content.decode()
    assert "subscribers.csv" in listing and "Error report" in listing


def test_an_officer_of_the_water_agency_may_import_too(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], water_officer: User
) -> None:
    upload = SimpleUploadedFile("s.csv", _subscribers(), "text/csv")
    response = logged_in(water_officer).post(
        reverse("water:exchange_imports"), {"kind": "subscribers", "file": upload}
    )
    assert response.status_code == 302
    assert Subscription.objects.count() == 4


@pytest.mark.parametrize("who", ["clerk", "cashier", "supervisor", "auditor", "civil_officer"])
def test_other_roles_are_refused_the_import_page(
    request: pytest.FixtureRequest, who: str, tariffs: None
) -> None:
    user = request.getfixturevalue(who)
    client = logged_in(user)
    assert client.get(reverse("water:exchange_imports")).status_code == 403
    upload = SimpleUploadedFile("s.csv", _subscribers(), "text/csv")
    response = client.post(
        reverse("water:exchange_imports"), {"kind": "subscribers", "file": upload}
    )
    assert response.status_code in (302, 403)
    assert not ImportBatch.objects.exists() and not Subscription.objects.exists()
    batch = ImportBatch.objects.create(kind="bills", source="cli", file_name="b.csv", sha256="0")
    assert client.get(reverse("water:exchange_import_errors", args=[batch.pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(db: None) -> None:
    from django.test import Client

    response = Client().get(reverse("water:exchange_imports"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", b"%PDF-1.7\n...", "Only CSV or XLSX files are accepted."),
        ("photo.jpg", b"\xff\xd8\xff\xe0JFIF", "Only CSV or XLSX files are accepted."),
        ("book.xlsx", b"PK\x03\x04garbage", "The spreadsheet cannot be read"),
        ("book.xlsx", _zip({"content.xml": "<x/>"}), "The spreadsheet cannot be read"),  # ODS-like
        ("book.xlsx", _zip({"xl/workbook.xml": "<"}), "The spreadsheet cannot be read"),
        ("other.csv", b"name,age\nx,1\n", "The file lacks required columns"),
    ],
)
def test_a_wrong_file_gets_a_clear_error_and_changes_nothing(
    tariffs: None, officer: User, name: str, content: bytes, message: str
) -> None:
    upload = SimpleUploadedFile(name, content, "application/octet-stream")
    response = logged_in(officer).post(
        reverse("water:exchange_imports"), {"kind": "bills", "file": upload}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_size_limit_is_refused(tariffs: None, officer: User, settings: Any) -> None:
    settings.WATER_IMPORT_MAX_BYTES = 100
    upload = SimpleUploadedFile("s.csv", _subscribers(), "text/csv")
    response = logged_in(officer).post(
        reverse("water:exchange_imports"), {"kind": "subscribers", "file": upload}
    )
    assert response.status_code == 400 and "too large" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_same_file_uploaded_twice_is_said_to_be_identical(
    imported: ImportBatch, officer: User
) -> None:
    upload = SimpleUploadedFile("again.csv", _subscribers(), "text/csv")
    response = logged_in(officer).post(
        reverse("water:exchange_imports"), {"kind": "subscribers", "file": upload}, follow=True
    )
    assert "nothing was done" in response.content.decode()
    assert Subscription.objects.count() == 4


# ---------------------------------------------------------------- the command line


def test_the_command_line_imports_with_exit_codes(
    tariffs: None,
    neighbourhoods: dict[str, Neighbourhood],
    officer: User,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from baladiya.cli import main

    good = tmp_path / "subscribers.csv"
    good.write_bytes(_subscribers())
    assert main(["water", "import", str(good), "--kind", "subscribers", "--as", "officer"]) == 0
    assert ImportBatch.objects.get().actor == officer
    assert main(["water", "import", str(good), "--kind", "subscribers"]) == 0  # identical
    assert "imported before" in capsys.readouterr().out

    bad = tmp_path / "bad.csv"
    bad.write_bytes(_subscribers(BAD_SUBSCRIBERS))
    report = tmp_path / "errors.csv"
    code = main(["water", "import", str(bad), "--kind", "subscribers", "--errors", str(report)])
    assert code == 1
    assert "row 2, national_number" in capsys.readouterr().out
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")

    pdf = tmp_path / "scan.csv"
    pdf.write_bytes(b"%PDF-1.4")
    assert main(["water", "import", str(pdf), "--kind", "bills"]) == 2
    assert main(["water", "import", str(tmp_path / "missing.csv"), "--kind", "bills"]) == 2
    assert main(["water", "import", str(good), "--kind", "bills", "--as", "nobody"]) == 2
    assert ImportBatch.objects.count() == 3


def test_imported_rows_get_uuid7_keys_in_time_order(
    imported: ImportBatch, citizen: Citizen
) -> None:
    """Keys minted in bulk are the same kind as `core.ids.uuid7`: version 7, RFC variant,
    starting with the current time (indexes stay append-mostly)."""
    from baladiya.core.ids import uuid7

    ids = list(Subscription.objects.values_list("id", flat=True))
    ids += list(Citizen.objects.exclude(pk=citizen.pk).values_list("id", flat=True))
    ids += list(OwnerPeriod.objects.values_list("id", flat=True))
    assert len(set(ids)) == 4 + 2 + 4
    assert {(i.version, i.variant) for i in ids} == {(7, "specified in RFC 4122")}
    assert all(i.int >> 80 <= uuid7().int >> 80 for i in ids)
    assert all(imported.created_at.timestamp() * 1000 - 5 <= i.int >> 80 for i in ids)


def test_a_citizen_registered_meanwhile_is_matched_not_duplicated(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User, monkeypatch: Any
) -> None:
    """A clerk registers a person between the import's look-up and its write (PostgreSQL:
    another transaction): the import's insert skips that citizen and links the meter to the
    record the clerk made."""
    real = importing._select

    def late(model: Any, fields: Any, **where: Any) -> Any:
        found = real(model, fields, **where)
        if model is Citizen and "national_number" in where:
            Citizen.objects.get_or_create(
                national_number="04022222222",
                defaults={"first_name": "عمر", "last_name": "السباعي", "father_name": "فؤاد"},
            )
        return found

    monkeypatch.setattr(importing, "_select", late)
    announced: list[int] = []
    real_changed = importing.capture.rows_changed

    def changed(model: Any, pks: Any) -> None:
        pks = list(pks)
        if model is Citizen:
            announced.append(len(pks))
        real_changed(model, pks)

    monkeypatch.setattr(importing.capture, "rows_changed", changed)
    batch = import_file(_subscribers(), "s.csv", "subscribers", officer)
    assert (batch.created, batch.failed) == (4, 0)
    omar = Citizen.objects.get(national_number="04022222222")
    assert omar.father_name == "فؤاد"  # the clerk's record, not the file's
    assert Subscription.objects.get(meter_number="HMS-1004").subscriber == omar
    assert Citizen.objects.count() == 3 and announced == [2]


def test_a_file_damaged_further_down_stops_there_with_a_clear_error(
    tariffs: None, neighbourhoods: dict[str, Neighbourhood], officer: User
) -> None:
    """Damage met while reading is a clear error; the chunks before it were written, and
    the import shows as interrupted."""
    # A stray quote swallows the rest of the file into one field, past the CSV field limit.
    rest = b"HMS-9,04011111111,x,,y,,z,,household,,2020-01-01\r\n" * 3000
    content = _subscribers() + b'"HMS-8,' + rest
    with pytest.raises(DomainError) as damaged:
        import_file(content, "s.csv", "subscribers", officer, chunk_size=2)
    assert damaged.value.code == "bad_csv"
    assert Subscription.objects.count() == 4
    assert ImportBatch.objects.get().state == "running"


def test_short_rows_count_their_missing_cells_as_empty(
    imported: ImportBatch, officer: User
) -> None:
    content = (
        b"meter_number,cycle,period_end,previous_reading,current_reading,consumption,"
        b"amount_piastres,due_date,bill_id\r\n"
        b"HMS-1001,2026-01,2026-02-28,1160,1200,40,6000\r\n"  # no due date, no bill id: fine
        b"HMS-1002,2026-01,2026-02-28,500\r\n"  # no current reading, consumption, amount
    )
    batch = import_file(content, "short.csv", "bills", officer)
    assert (batch.created, batch.failed) == (1, 1)
    assert {(i.column, i.code) for i in batch.issues.all()} == {
        ("current_reading", "required"),
        ("consumption", "required"),
        ("amount_piastres", "required"),
    }
