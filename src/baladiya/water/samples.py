"""Build establishment files (CSV or XLSX) from rows: for tests, the demo and benchmarks.
The column names are those `water.importing` documents."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

SUBSCRIBERS = (
    "meter_number",
    "national_number",
    "first_name",
    "father_name",
    "last_name",
    "mobile",
    "address",
    "neighbourhood",
    "category",
    "meter_status",
    "active_since",
)
SUBSCRIBERS_AR = (
    "رقم العداد",
    "الرقم الوطني",
    "الاسم",
    "اسم الأب",
    "الكنية",
    "الجوال",
    "العنوان",
    "الحي",
    "الفئة",
    "حالة العداد",
    "تاريخ الاشتراك",
)
READINGS = (
    "meter_number",
    "cycle",
    "period_end",
    "previous_reading",
    "current_reading",
    "estimated",
)
BILLS = (
    "meter_number",
    "cycle",
    "period_end",
    "previous_reading",
    "current_reading",
    "consumption",
    "amount_piastres",
    "due_date",
    "bill_id",
)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
