"""Import the water establishment's files: subscribers, meter readings, bills (issue 5).

Files are CSV (UTF-8, with or without BOM; Windows Arabic cp1256 also read; comma, semicolon
or tab) or XLSX (first worksheet). Row 1 holds the column names, in English or
Arabic (either spelling below; case, spaces, `_` and Arabic letter variants do not matter);
columns may come in any order, unknown columns are ignored. Row numbers in reports are the
spreadsheet's (the header is row 1). Dates: `YYYY-MM-DD` (or `DD/MM/YYYY`, or a date cell).

**Subscribers** (`--kind subscribers`)

| column | Arabic | |
|---|---|---|
| meter_number | رقم العداد | required, 1–30 of `A-Z a-z 0-9 - /` |
| national_number | الرقم الوطني | required, 11 digits |
| first_name | الاسم | required |
| father_name | اسم الأب | optional |
| last_name (family_name) | الكنية | required |
| mobile | الجوال | optional, `09XX XXX XXX` or `+963 9XX XXX XXX` |
| address | العنوان | required |
| neighbourhood | الحي | optional, its Arabic or English name |
| category | الفئة | household / government / commercial / industrial / tourist, or منزلي / حكومي / تجاري / صناعي / سياحي |
| meter_status | حالة العداد | optional (working): working / broken / replaced / removed, or يعمل / معطل / مستبدل / مزال |
| active_since | تاريخ الاشتراك | required |

A citizen is found by national number, or created from the row (an existing citizen record is
left as it is: the counter's record, checked against the ID card, wins). A new meter gets its
subscription and an opening owner period; a known meter has its address, neighbourhood,
category, status and start date updated when they differ. A known meter listed under another
subscriber is refused: an ownership change is a transfer, not an import.

**Readings** (`--kind readings`): meter_number (رقم العداد), cycle (الدورة, `YYYY-NN`,
cycles 01–06 of two months), period_end (نهاية الدورة), previous_reading (القراءة السابقة),
current_reading (القراءة الحالية), estimated (تقديرية, optional: 1/0, yes/no, نعم/لا). Each row
becomes that cycle's bill, priced with our tariff in force at the cycle's end (as
`services.record_bill`), due 30 days after it.

**Bills** (`--kind bills`): meter_number, cycle, period_end, previous_reading,
current_reading, consumption (الاستهلاك, must be current − previous), the establishment's
amount as `amount_piastres` (المبلغ بالقروش, whole piastres) or `amount_syp` (المبلغ,
pounds with up to two decimals), due_date (تاريخ الاستحقاق, optional: 30 days after the
cycle), bill_id (رقم الفاتورة, the establishment's id, optional), estimated (optional).

**Every row is checked on its own.** A bad row is skipped and reported (row, column, value,
reason: `ImportIssue`, downloadable as CSV); the good rows are imported. A row naming a key
seen earlier in the file (meter; meter + cycle) is refused as a duplicate. A bill (from
readings or bills) for a cycle already billed is left alone when it says the same thing and
refused when it contradicts it: a correction is the establishment's, made by cancelling.

**Importing again changes nothing**: rows are matched by their natural keys, unchanged rows
are not written, and a file identical to one already imported (same SHA-256) is recorded as
such and not read again (unless forced).

**Fast**: rows are validated in plain Python and written per chunk of `CHUNK` rows, in one
transaction each (a chunk is written whole or not at all), with the existing keys read per
chunk by `IN` queries and `bulk_create`; one audit event per import, not per row (decision
0010). Imports run on the central node: bills are the establishment's, a center only pays them.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import os
import re
import time
import uuid
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from baladiya.accounts.models import Citizen
from baladiya.centers.models import Neighbourhood
from baladiya.core import audit
from baladiya.core.csvstream import BATCH, stream_csv
from baladiya.core.errors import DomainError
from baladiya.core.models import Counter
from baladiya.core.money import ARABIC_DIGITS, MoneyError, parse_pounds
from baladiya.core.text import join_list, normalize_arabic
from baladiya.core.uploads import sniff
from baladiya.core.validators import clean_mobile, clean_national_number
from baladiya.sync import capture
from baladiya.water.models import (
    Bill,
    Category,
    ImportBatch,
    ImportIssue,
    MeterStatus,
    OwnerPeriod,
    Subscription,
    Tariff,
)
from baladiya.water.services import DUE_DAYS
from baladiya.water.tariffs import charge

CHUNK = 5000
Kind = ImportBatch.Kind
Progress = Callable[[int, int | None], None]

# ---------------------------------------------------------------- messages

MESSAGES: dict[str, Promise] = {
    "required": _("This column is required."),
    "too_long": _("Too long: at most %(max)s characters."),
    "meter_number": _("A meter number is 1 to 30 letters, digits, “-” or “/”."),
    "national_number": _("A national number is exactly 11 digits."),
    "mobile": _("Enter a Syrian mobile number such as +963 944 123 456."),
    "neighbourhood": _("Unknown neighbourhood."),
    "category": _(
        "Unknown usage category (household, government, commercial, industrial, tourist)."
    ),
    "meter_status": _("Unknown meter status (working, broken, replaced, removed)."),
    "date": _("Not a date: write it as YYYY-MM-DD."),
    "cycle": _("A billing cycle is written YYYY-NN, e.g. 2026-03 (cycles 01 to 06)."),
    "whole": _("Not a whole number of at least 0."),
    "flag": _("Write 1 or 0 (yes or no)."),
    "amount": _("Not an amount: whole piastres, or pounds with at most two decimals."),
    "reading_backwards": _("The current reading (%(cur)s) is below the previous one (%(prev)s)."),
    "consumption": _("The consumption (%(given)s m³) is not current − previous (%(expected)s m³)."),
    "due_before_end": _("The due date is before the end of the cycle."),
    "unknown_meter": _("No subscription has this meter number: import the subscriber first."),
    "duplicate": _("Repeats row %(row)s of this file (same %(key)s)."),
    "bill_differs": _(
        "Cycle %(cycle)s of this meter was already billed with other figures; the bill was "
        "kept as it was."
    ),
    "subscriber_differs": _(
        "This meter belongs to another subscriber (%(holder)s): an ownership change is a "
        "transfer, not an import."
    ),
    "no_tariff": _("No water tariff for %(category)s on %(day)s."),
    "tariff_gap": _("The tariff has no slab for %(m3)s m³."),
}


KEY_LABELS: dict[str, Promise] = {
    "meter": _("meter number"),
    "meter_cycle": _("meter and cycle"),
}


def issue_message(issue: ImportIssue) -> str:
    """The reason for a refused row, in the active language."""
    text = MESSAGES.get(issue.code)
    if text is None:
        return issue.code
    if not issue.params:
        return str(text)
    params = dict(issue.params)
    if "key" in params:
        params["key"] = KEY_LABELS.get(str(params["key"]), params["key"])
    return str(text % params)


class _Bad(Exception):
    """A cell that cannot be read; `code` keys MESSAGES."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str
    names: tuple[str, ...]  # accepted headers (English and Arabic)
    required: bool = True


def _columns(*specs: tuple[str, tuple[str, ...], bool]) -> tuple[Column, ...]:
    return tuple(Column(key, names, required) for key, names, required in specs)


_METER = ("meter_number", ("meter_number", "meter", "meter no", "رقم العداد", "العداد"), True)
_CYCLE = ("cycle", ("cycle", "billing cycle", "الدورة", "دورة الفوترة"), True)
_END = ("period_end", ("period_end", "cycle_end", "نهاية الدورة", "تاريخ نهاية الدورة"), True)
_PREV = ("previous_reading", ("previous_reading", "previous", "القراءة السابقة"), True)
_CUR = ("current_reading", ("current_reading", "current", "القراءة الحالية"), True)
_EST = ("estimated", ("estimated", "estimate", "تقديرية", "قراءة تقديرية"), False)

COLUMNS: dict[str, tuple[Column, ...]] = {
    Kind.SUBSCRIBERS: _columns(
        _METER,
        ("national_number", ("national_number", "national number", "الرقم الوطني"), True),
        ("first_name", ("first_name", "name", "الاسم", "الاسم الأول"), True),
        ("father_name", ("father_name", "father", "اسم الأب", "اسم الاب"), False),
        ("last_name", ("last_name", "family_name", "surname", "الكنية", "النسبة"), True),
        ("mobile", ("mobile", "phone", "الجوال", "الموبايل", "رقم الجوال", "الهاتف"), False),
        ("address", ("address", "العنوان"), True),
        ("neighbourhood", ("neighbourhood", "neighborhood", "الحي"), False),
        ("category", ("category", "usage", "الفئة", "نوع الاستخدام", "صنف الاشتراك"), True),
        ("meter_status", ("meter_status", "status", "حالة العداد"), False),
        ("active_since", ("active_since", "since", "تاريخ الاشتراك", "بداية الاشتراك"), True),
    ),
    Kind.READINGS: _columns(_METER, _CYCLE, _END, _PREV, _CUR, _EST),
    Kind.BILLS: _columns(
        _METER,
        _CYCLE,
        _END,
        _PREV,
        _CUR,
        ("consumption", ("consumption", "الاستهلاك"), True),
        ("amount_piastres", ("amount_piastres", "المبلغ بالقروش"), False),
        ("amount_syp", ("amount_syp", "amount", "المبلغ", "المبلغ بالليرة"), False),
        ("due_date", ("due_date", "due", "تاريخ الاستحقاق"), False),
        ("bill_id", ("bill_id", "external_ref", "bill number", "رقم الفاتورة"), False),
        _EST,
    ),
}


def _header_key(text: Any) -> str:
    cleaned = normalize_arabic(str(text or "").replace("\ufeff", "")).replace("_", " ")
    return " ".join(cleaned.split())


@dataclass(frozen=True)
class Layout:
    """Where each known column is in the file, and its header as the file spells it."""

    index: dict[str, int]
    header: dict[str, str]


def map_columns(headers: Sequence[Any], kind: str) -> Layout:
    """Find the kind's columns among `headers`; refuse the file if a required one is absent."""
    found = {_header_key(h): i for i, h in reversed(list(enumerate(headers))) if h is not None}
    index: dict[str, int] = {}
    header: dict[str, str] = {}
    missing: list[str] = []
    for column in COLUMNS[kind]:
        at = next((found[k] for k in map(_header_key, column.names) if k in found), None)
        if at is None:
            if column.required:
                missing.append(f"{column.names[0]} ({column.names[-1]})")
            continue
        index[column.key] = at
        header[column.key] = str(headers[at]).replace("\ufeff", "").strip()
    if kind == Kind.BILLS and not {"amount_piastres", "amount_syp"} & set(index):
        missing.append("amount_piastres (المبلغ بالقروش) / amount_syp (المبلغ)")
    if missing:
        raise DomainError(
            _("The file lacks required columns: %(columns)s. Is it the right kind of file?")
            % {"columns": join_list(missing)},
            code="missing_columns",
        )
    return Layout(index, header)


# ---------------------------------------------------------------- reading the file


@dataclass
class Table:
    headers: list[Any]
    rows: Iterator[tuple[int, Sequence[Any]]]  # (spreadsheet row number, cells)
    total: int | None  # rows expected (for progress), when cheaply known
    close: Callable[[], None] = lambda: None


def open_table(content: bytes) -> Table:
    """A CSV or XLSX file's header and rows; anything else is refused with a clear message."""
    if not content:
        raise DomainError(_("The file is empty."), code="upload_empty")
    if content[:4] == b"PK\x03\x04":
        return _xlsx(content)
    head = content[:4096]
    if b"\x00" in head or sniff(head[:16]) is not None:
        raise DomainError(_("Only CSV or XLSX files are accepted."), code="upload_bad_type")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1256", errors="replace")  # Excel's "CSV" on Arabic Windows
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise DomainError(_("The file has no header row."), code="no_header") from exc
    return Table(headers, _numbered(reader, 2), max(text.count("\n") - 1, 0))


def _numbered(rows: Iterable[Sequence[Any]], start: int) -> Iterator[tuple[int, Sequence[Any]]]:
    try:
        for number, cells in enumerate(rows, start):
            # `any(cells)` settles most rows at C speed; a row of zeros is not empty.
            if any(cells) or any(c not in (None, "") for c in cells):
                yield number, cells
    except csv.Error as exc:
        raise DomainError(
            _("The CSV file is damaged (%(error)s).") % {"error": exc}, code="bad_csv"
        ) from exc


def _xlsx(content: bytes) -> Table:
    """The first worksheet, read by calamine (Rust): openpyxl took ten times as long, which was
    nearly all of an XLSX import. Calamine hands every number as a float (12 is 12.0), a date
    cell as a date (a datetime when it has a time) and an empty cell as "": the cell readers
    below take these as they took openpyxl's ints, datetimes and None. Rows come from A1, gaps
    included, so row numbers are the spreadsheet's. A cell holding a formula's error
    (#N/A…) reads as empty: calamine does not say which error it was."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    try:
        # Only XLSX (ODS or XLSB, which calamine also reads, are refused as before).
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise KeyError("xl/workbook.xml")
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        first = next(
            at
            for at, sheet in enumerate(book.sheets_metadata)
            if sheet.typ == SheetTypeEnum.WorkSheet
        )
        sheet = book.get_sheet_by_index(first)
        rows = sheet.iter_rows()
        headers = [None if h == "" else h for h in next(rows, [])]
    except (zipfile.BadZipFile, CalamineError, KeyError, StopIteration, ValueError, OSError) as exc:
        raise DomainError(
            _("The spreadsheet cannot be read: is it an XLSX file?"), code="upload_bad_type"
        ) from exc
    if not headers:
        book.close()
        raise DomainError(_("The file has no header row."), code="no_header")
    end = sheet.end
    return Table(headers, _numbered(rows, 2), end[0] if end else None, book.close)


# ---------------------------------------------------------------- reading cells

_METER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/\-]{0,29}")
_NATIONAL_RE = re.compile(r"[0-9]{11}")
_CYCLE_RE = re.compile(r"([0-9]{4})-0?([1-6])")
_DMY_RE = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_MOBILE_JUNK = re.compile(r"[\s\-()]")
_TRUE = frozenset({"1", "yes", "y", "true", "x", "نعم", "صح"})
_FALSE = frozenset({"", "0", "no", "n", "false", "لا", "خطا"})

CATEGORIES = {
    **{c.value: c.value for c in Category},
    "منزلي": Category.HOUSEHOLD.value,
    "سكني": Category.HOUSEHOLD.value,
    "حكومي": Category.GOVERNMENT.value,
    "تجاري": Category.COMMERCIAL.value,
    "صناعي": Category.INDUSTRIAL.value,
    "سياحي": Category.TOURIST.value,
}
STATUSES = {
    **{s.value: s.value for s in MeterStatus},
    "يعمل": MeterStatus.WORKING.value,
    "سليم": MeterStatus.WORKING.value,
    "معطل": MeterStatus.BROKEN.value,
    "مستبدل": MeterStatus.REPLACED.value,
    "مزال": MeterStatus.REMOVED.value,
    "مرفوع": MeterStatus.REMOVED.value,
}


_fold = functools.lru_cache(maxsize=8192)(normalize_arabic)  # names, categories repeat


def _text(value: Any) -> str:
    if value.__class__ is str:
        return value.strip()  # type: ignore[no-any-return]
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _limited(value: Any, limit: int, *, required: bool = True) -> str:
    text = _text(value)
    if not text and required:
        raise _Bad("required")
    if len(text) > limit:
        raise _Bad("too_long", max=limit)
    return text


def _meter(value: Any) -> str:
    text = _text(value)
    if _METER_RE.fullmatch(text):
        return text
    text = "".join(text.translate(ARABIC_DIGITS).split())
    if not text:
        raise _Bad("required")
    if not _METER_RE.fullmatch(text):
        raise _Bad("meter_number")
    return text


def _national(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A spreadsheet stored the number as a number: its leading zero (Homs is 04) is gone.
        text = _text(value).zfill(11)
    else:
        text = _text(value)
    if _NATIONAL_RE.fullmatch(text):
        return text  # the common case, without the validator's clean-up
    if not text:
        raise _Bad("required")
    try:
        return clean_national_number(text)
    except ValidationError:
        raise _Bad("national_number") from None


def _mobile(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raw = "0" + _text(value)  # 944123456 once the leading zero was eaten
    else:
        raw = _text(value)
    if not _MOBILE_JUNK.sub("", raw):
        return ""
    try:
        return clean_mobile(raw)
    except ValidationError:
        raise _Bad("mobile") from None


def _choice(value: Any, choices: dict[str, str], code: str, default: str = "") -> str:
    text = _fold(_text(value))
    if not text:
        if default:
            return default
        raise _Bad("required")
    found = choices.get(text)
    if found is None:
        raise _Bad(code)
    return found


_CATEGORY_KEYS = {normalize_arabic(k): v for k, v in CATEGORIES.items()}
_STATUS_KEYS = {normalize_arabic(k): v for k, v in STATUSES.items()}


def _date(value: Any, *, required: bool = True) -> dt.date | None:
    if value.__class__ is str and len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _Bad("date") from None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).translate(ARABIC_DIGITS)
    if not text:
        if required:
            raise _Bad("required")
        return None
    try:
        if len(text) == 10 and text[4] == "-":
            return dt.date.fromisoformat(text)
        match = _DMY_RE.fullmatch(text)
        if match:
            day, month, year = map(int, match.groups())
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise _Bad("date")


def _whole(value: Any) -> int:
    if value.__class__ is str and value.isdigit() and value.isascii() and len(value) < 11:
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = _text(value).translate(ARABIC_DIGITS)
        if not text:
            raise _Bad("required")
        if not text.isascii() or not text.isdigit():
            raise _Bad("whole")
        number = int(text)
    if not 0 <= number <= 2_000_000_000:
        raise _Bad("whole")
    return number


def _flag(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = _fold(_text(value))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad("flag")


def _cycle(value: Any) -> str:
    if (
        value.__class__ is str
        and len(value) == 7
        and value[4:6] == "-0"
        and "1" <= value[6] <= "6"
        and value[:4].isdigit()
        and value.isascii()
    ):
        return value  # type: ignore[no-any-return]
    text = _text(value).translate(ARABIC_DIGITS)
    match = _CYCLE_RE.fullmatch(text)
    if not match:
        raise _Bad("required" if not text else "cycle")
    return f"{match.group(1)}-0{match.group(2)}"


def _piastres(value: Any) -> int:
    try:
        return _whole(value)
    except _Bad as bad:
        if bad.code == "required":
            raise
        raise _Bad("amount") from None


def _pounds(value: Any) -> int:
    # A number cell is checked as its text is (a whole number once skipped it: -5 became
    # -500 piastres); calamine hands every number as a float anyway.
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = _text(value) if not isinstance(value, float) else f"{value:.2f}"
    if not text:
        raise _Bad("required")
    try:
        return parse_pounds(text)
    except MoneyError:
        raise _Bad("amount") from None


# ---------------------------------------------------------------- rows


@dataclass
class Issue:
    row: int
    column: str  # a Column key; the report shows the file's own header
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    value: str = ""


Reader = Callable[[Any], Any]
# (column key, how to read it): a record's fields, in order, after its row number.
Plan = tuple[tuple[str, Reader], ...]
MISSING = -1  # the index of an absent optional column: the None added after each row's cells


@dataclass
class Tally:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


_VARIANT = {h: "89ab"[int(h, 16) & 3] for h in "0123456789abcdef"}  # RFC 9562: 10xx


class _Db:
    """Values as the database stores them, for `_insert` (UUIDs are hex text on SQLite,
    dates ISO text; PostgreSQL takes them as they are). Dates repeat: converted once."""

    def __init__(self) -> None:
        self.native_uuid = bool(connection.features.has_native_uuid_field)
        self._days: dict[Any, Any] = {}

    def key(self, value: uuid.UUID) -> Any:
        return value if self.native_uuid else value.hex

    def new_ids(self, count: int) -> list[str]:
        """`count` new UUIDv7 primary keys as 32 hex digits (as `core.ids.uuid7` makes them:
        48-bit Unix milliseconds, version 7, RFC variant, 74 random bits), which both
        databases take for a UUID column. Made in one go from one call to the random source:
        minting 600,000 `uuid.UUID` objects one by one was a fifth of a bills import."""
        millis = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
        prefix = f"{millis:012x}7"
        noise = os.urandom(10 * count).hex()
        return [
            f"{prefix}{noise[at + 1 : at + 4]}{_VARIANT[noise[at + 4]]}{noise[at + 5 : at + 20]}"
            for at in range(0, 20 * count, 20)
        ]

    def day(self, value: dt.date | None) -> Any:
        found = self._days.get(value)
        if found is None and value is not None:
            found = self._days[value] = connection.ops.adapt_datefield_value(value)
        return found

    def moment(self, value: dt.datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)


# ---------------------------------------------------------------- importers


class _Importer:
    """Validates and writes one kind of file, chunk by chunk.

    A row is read by its plan in one go (the common case: every cell fine); only a row with
    a bad cell is read again cell by cell to report every problem in it, not just the first.
    """

    record: Callable[..., Any]  # a NamedTuple class: (row, *plan fields)

    def __init__(self, batch: ImportBatch, layout: Layout) -> None:
        self.batch, self.layout = batch, layout
        self.tally = Tally()
        self.seen: dict[int, int] = {}  # hash of a row's natural key -> its first row
        self.db = _Db()
        self.plan: Plan = self.make_plan()
        self.steps = tuple((layout.index.get(key, MISSING), read) for key, read in self.plan)

    def make_plan(self) -> Plan:
        raise NotImplementedError

    def check(self, record: Any) -> list[Issue]:
        """Problems between cells of a good row (a reading going backwards...)."""
        return []

    def key(self, record: Any) -> tuple[str, ...]:
        raise NotImplementedError

    key_name: str  # KEY_LABELS: how a duplicate's key is named in its message

    def write(self, records: list[Any], issues: list[Issue]) -> None:
        """Write the chunk's good records (inside its transaction); refuse the ones that
        clash with what is stored by appending to `issues`."""
        raise NotImplementedError

    def parse(self, number: int, cells: Sequence[Any]) -> tuple[Any, list[Issue]]:
        padded = [*cells, None]
        try:
            return self.record(number, *[read(padded[at]) for at, read in self.steps]), []
        except (_Bad, IndexError):
            pass
        values, issues = [], []
        for key, read in self.plan:
            at = self.layout.index.get(key, MISSING)
            value = cells[at] if 0 <= at < len(cells) else None
            try:
                values.append(read(value))
            except _Bad as bad:
                issues.append(Issue(number, key, bad.code, bad.params, _text(value)[:200]))
                values.append(None)
        if issues:
            return None, issues
        return self.record(number, *values), []  # a short row whose missing cells may be empty

    def prepare(self, rows: list[tuple[int, Sequence[Any]]]) -> Prepared:
        """Read and check a chunk's rows (no database)."""
        records: list[Any] = []
        issues: list[Issue] = []
        for number, cells in rows:
            record, problems = self.parse(number, cells)
            if not problems:
                problems = self.check(record)
            if problems:
                issues += problems
                continue
            key = self.key(record)
            # A 64-bit hash, not the key, to keep 600,000 keys small: a false "duplicate"
            # would take two keys of the same hash (odds about 1 in 10^8 for such a file).
            first = self.seen.setdefault(hash(key), number)
            if first != number:
                issues.append(
                    Issue(number, self.plan[0][0], "duplicate",
                          {"row": first, "key": self.key_name}, " ".join(key))
                )  # fmt: skip
                continue
            records.append(record)
        return Prepared(len(rows), records, issues)

    def commit(self, chunk: Prepared, before_commit: Callable[[], None] = lambda: None) -> None:
        """Write a prepared chunk in one transaction, with its refused rows and the counts;
        `before_commit` runs once all is written, just before the transaction commits."""
        issues = list(chunk.issues)
        with transaction.atomic():
            _lock_imports()
            self.write(chunk.records, issues)
            ImportIssue.objects.bulk_create(
                ImportIssue(
                    batch=self.batch,
                    row=i.row,
                    column=self.layout.header.get(i.column, i.column),
                    code=i.code,
                    params=i.params,
                    value=i.value,
                )
                for i in issues
            )
            self.tally.rows += chunk.rows
            self.tally.failed += len({i.row for i in issues})
            _save_tally(self.batch, self.tally)
            before_commit()


@dataclass(frozen=True)
class Prepared:
    rows: int
    records: list[Any]
    issues: list[Issue]


def _lock_imports() -> None:
    """One import writes at a time (PostgreSQL row lock; SQLite's write transaction already
    serializes): a chunk reads the stored keys and writes without another import in between."""
    Counter.objects.select_for_update().get_or_create(scope="water", kind="import", year=0)


def _save_tally(batch: ImportBatch, tally: Tally) -> None:
    for name in ("rows", "created", "updated", "unchanged", "failed"):
        setattr(batch, name, getattr(tally, name))
    batch.save(update_fields=["rows", "created", "updated", "unchanged", "failed"])


def _insert(
    model: type[models.Model],
    fields: Sequence[str],
    rows: list[tuple[Any, ...]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """INSERT `rows` (database-ready values of `fields`, in order, every column given) and
    return how many went in. This is what `bulk_create` would write, without building a model
    instance and compiling SQL per row, which was 4/5 of an import's time: PostgreSQL gets
    them by COPY, SQLite (or on conflict, skip) by one statement run over all (`executemany`)."""
    if not rows:
        return 0
    meta = model._meta
    columns = [_column(model, name) for name in fields]
    absent = {f.column for f in meta.concrete_fields} - set(columns)
    if absent:
        raise TypeError(f"{meta.label}: no value for {sorted(absent)}")
    quote = connection.ops.quote_name
    table = f"{quote(meta.db_table)} ({', '.join(quote(c) for c in columns)})"
    if connection.vendor == "postgresql":
        try:
            # A savepoint when conflicts are possible: a clash undoes only the COPY.
            with (
                transaction.atomic(savepoint=ignore_conflicts),
                connection.cursor() as cursor,
                connection.wrap_database_errors,  # psycopg's errors as Django's
                cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return len(rows)
        except IntegrityError:
            if not ignore_conflicts:
                raise
            # Someone else wrote one of these meanwhile: row by row, skipping the clashes.
    sql = f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - names from the model, quoted
    with connection.cursor() as cursor:
        cursor.executemany(sql + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""), rows)
        return int(cursor.rowcount)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model._meta.label}.{name} is no column")
    return str(field.column)


def _select(
    model: type[models.Model], fields: Sequence[str], **where: Collection[Any]
) -> list[tuple[Any, ...]]:
    """Rows of `model` (values of `fields`, as the database returns them) whose `where`
    columns are among the given values: `= ANY(array)` on PostgreSQL, `IN (…)` on SQLite.
    A chunk asks for 5,000 keys at once; as an ORM `__in` that is 5,000 parameters parsed
    on both sides, which cost PostgreSQL imports half their time."""
    meta = model._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return str(quote(_column(model, name)))

    conditions, params = [], []
    for name, values in where.items():
        values = list(values)
        if not values:
            return []
        if connection.vendor == "postgresql":
            conditions.append(f"{column(name)} = ANY(%s)")
            params.append(values)
        else:
            conditions.append(f"{column(name)} IN ({', '.join(['%s'] * len(values))})")
            params += values
    sql = (
        f"SELECT {', '.join(column(f) for f in fields)} FROM {quote(meta.db_table)} "  # noqa: S608 - names from the model, quoted
        f"WHERE {' AND '.join(conditions)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _hex(value: Any) -> str:
    return value.hex if isinstance(value, uuid.UUID) else str(value)


class SubscriberRecord(NamedTuple):
    row: int
    meter: str
    national: str
    first_name: str
    father_name: str
    last_name: str
    mobile: str
    address: str
    neighbourhood_id: Any
    category: str
    meter_status: str
    active_since: dt.date


CITIZEN_FIELDS = (
    "id",
    "national_number",
    "first_name",
    "father_name",
    "last_name",
    "mother_name",
    "birth_date",
    "phone",
    "name_normalized",
    "created_at",
)
SUBSCRIPTION_FIELDS = (
    "id",
    "meter_number",
    "subscriber",
    "address",
    "neighbourhood",
    "category",
    "meter_status",
    "active_since",
    "created_at",
    "updated_at",
)
OWNER_FIELDS = ("id", "subscription", "citizen", "valid_from", "valid_to", "created_at")
BILL_FIELDS = (
    "id",
    "subscription",
    "cycle",
    "period_end",
    "previous_reading",
    "current_reading",
    "estimated",
    "consumption",
    "amount",
    "due_date",
    "external_ref",
    "state",
    "created_at",
)


class SubscriberImporter(_Importer):
    record = SubscriberRecord
    key_name = "meter"
    FIELDS = ("address", "neighbourhood_id", "category", "meter_status", "active_since")
    COLUMNS = ("address", "neighbourhood", "category", "meter_status", "active_since")

    def __init__(self, batch: ImportBatch, layout: Layout) -> None:
        self.neighbourhoods: dict[str, Any] = {}
        for pk, name_ar, name_en in Neighbourhood.objects.values_list("pk", "name_ar", "name_en"):
            self.neighbourhoods[normalize_arabic(name_ar)] = pk
            self.neighbourhoods.setdefault(normalize_arabic(name_en), pk)
        self.found: dict[str, Any] = {}
        super().__init__(batch, layout)

    def make_plan(self) -> Plan:
        return (
            ("meter_number", _meter),
            ("national_number", _national),
            ("first_name", functools.partial(_limited, limit=60)),
            ("father_name", functools.partial(_limited, limit=60, required=False)),
            ("last_name", functools.partial(_limited, limit=60)),
            ("mobile", _mobile),
            ("address", functools.partial(_limited, limit=250)),
            ("neighbourhood", self._neighbourhood),
            ("category", functools.partial(_choice, choices=_CATEGORY_KEYS, code="category")),
            (
                "meter_status",
                functools.partial(
                    _choice, choices=_STATUS_KEYS, code="meter_status", default="working"
                ),
            ),
            ("active_since", _date),
        )

    def _neighbourhood(self, value: Any) -> Any:
        """By its Arabic or English name, with or without “حي” (remembered per spelling)."""
        text = _text(value)
        if text in self.found:
            return self.found[text]
        folded = normalize_arabic(text)
        if not folded:
            return None
        for candidate in (folded, normalize_arabic("حي " + folded), folded.removeprefix("حي ")):
            if candidate in self.neighbourhoods:
                self.found[text] = self.neighbourhoods[candidate]
                return self.found[text]
        raise _Bad("neighbourhood")

    def key(self, record: SubscriberRecord) -> tuple[str, ...]:
        return (record.meter,)

    def write(self, records: list[SubscriberRecord], issues: list[Issue]) -> None:
        key, day = self.db.key, self.db.day
        citizens: dict[str, Any] = dict(
            _select(
                Citizen, ("national_number", "id"), national_number={r.national for r in records}
            )
        )
        stored = self._stored(records, {pk: national for national, pk in citizens.items()})
        new_citizens: dict[str, SubscriberRecord] = {}
        new: list[SubscriberRecord] = []
        changed: list[tuple[SubscriberRecord, dict[str, Any]]] = []
        for record in records:
            current = stored.get(record.meter)
            if current is None:
                if record.national not in citizens:
                    new_citizens.setdefault(record.national, record)
                new.append(record)
                continue
            if current["national"] != record.national:
                issues.append(
                    Issue(record.row, "national_number", "subscriber_differs",
                          {"holder": current["national"]}, record.national)
                )  # fmt: skip
                continue
            if self._same(current, record):
                self.tally.unchanged += 1
            else:
                changed.append((record, current))
        now = timezone.now()
        moment = self.db.moment(now)
        citizen_ids = self._add_citizens(new_citizens, citizens, moment)
        ids = self.db.new_ids(2 * len(new))  # a subscription and its owner period each
        rows = []
        owners = []
        for pk, owner, r in zip(ids[::2], ids[1::2], new, strict=True):
            holder = citizens[r.national]
            rows.append(
                (pk, r.meter, holder, r.address,
                 key(r.neighbourhood_id) if r.neighbourhood_id else None,
                 r.category, r.meter_status, day(r.active_since), moment, moment)
            )  # fmt: skip
            owners.append((owner, pk, holder, day(r.active_since), None, moment))
        _insert(Subscription, SUBSCRIPTION_FIELDS, rows)
        _insert(OwnerPeriod, OWNER_FIELDS, owners)
        updated = self._update(changed, now)
        self.tally.created += len(rows)
        self.tally.updated += len(updated)
        if rows or updated:
            capture.rows_changed(Subscription, ids[::2] + updated)
        if citizen_ids:
            capture.rows_changed(Citizen, citizen_ids)

    def _stored(
        self, records: list[SubscriberRecord], holders: dict[Any, str]
    ) -> dict[str, dict[str, Any]]:
        """The chunk's meters already known, with their holder's national number."""
        names = ("meter_number", "id", "subscriber", *self.FIELDS)
        rows = [
            dict(zip(names, row, strict=True))
            for row in _select(
                Subscription,
                ("meter_number", "id", "subscriber", *self.COLUMNS),
                meter_number=[r.meter for r in records],
            )
        ]
        others = {row["subscriber"] for row in rows} - set(holders)
        if others:  # holders this chunk does not name (a meter changed hands)
            holders = {**holders, **{pk: n for n, pk in
                                     _select(Citizen, ("national_number", "id"), id=others)}}  # fmt: skip
        for row in rows:
            row["national"] = holders.get(row["subscriber"], "")
        return {row["meter_number"]: row for row in rows}

    def _same(self, current: dict[str, Any], r: SubscriberRecord) -> bool:
        """Stored values (as the database returns them) against the row's."""
        where = self.db.key(r.neighbourhood_id) if r.neighbourhood_id else None
        return (
            current["address"],
            current["neighbourhood_id"],
            current["category"],
            current["meter_status"],
            self.db.day(current["active_since"]) if current["active_since"] else None,
        ) == (r.address, where, r.category, r.meter_status, self.db.day(r.active_since))

    def _add_citizens(
        self, new: dict[str, SubscriberRecord], citizens: dict[str, Any], moment: Any
    ) -> list[str]:
        """Create the citizens the file brings; fills `citizens` (national number -> id) and
        returns the ids of those created here (an existing record is left as it is)."""
        if not new:
            return []
        ids = dict(zip(new, self.db.new_ids(len(new)), strict=True))
        rows = [
            (ids[n], n, r.first_name, r.father_name, r.last_name, "", None, r.mobile,
             _fold(" ".join(p for p in (r.first_name, r.father_name, r.last_name) if p)), moment)
            for n, r in new.items()
        ]  # fmt: skip
        written = _insert(Citizen, CITIZEN_FIELDS, rows, ignore_conflicts=True)
        citizens.update(ids)
        if written == len(rows):
            return list(ids.values())
        # Someone registered some of them meanwhile (PostgreSQL: another transaction): read
        # back whose id each national number really has.
        citizens.update(_select(Citizen, ("national_number", "id"), national_number=new))
        return [pk for n, pk in ids.items() if _hex(citizens[n]) == pk]

    def _update(
        self, changed: list[tuple[SubscriberRecord, dict[str, Any]]], now: dt.datetime
    ) -> list[Any]:
        updated = [
            Subscription(
                id=current["id"],
                meter_number=r.meter,
                subscriber_id=current["subscriber"],
                address=r.address,
                neighbourhood_id=r.neighbourhood_id,
                category=r.category,
                meter_status=r.meter_status,
                active_since=r.active_since,
                updated_at=now,
            )
            for r, current in changed
        ]
        if updated:
            Subscription.objects.bulk_update(updated, [*self.FIELDS, "updated_at"], batch_size=500)
        return [s.pk for s in updated]


class BillRecord(NamedTuple):
    row: int
    meter: str
    cycle: str
    period_end: dt.date
    previous: int
    current: int
    estimated: bool
    consumption: int | None  # None: current − previous (readings)
    amount: int | None  # None: priced here (readings)
    due_date: dt.date | None
    external_ref: str


class _Pricer:
    """The tariffs as they stand when the import starts, and prices already worked out
    (a file has a few hundred distinct consumptions per category, not 600,000)."""

    def __init__(self) -> None:
        self.tariffs: dict[str, list[Tariff]] = {}
        for tariff in Tariff.objects.prefetch_related("slabs").order_by("-valid_from"):
            self.tariffs.setdefault(tariff.category, []).append(tariff)
        self.prices: dict[tuple[Any, int], int] = {}

    def price(self, category: str, day: dt.date, consumption: int) -> int:
        tariff = next((t for t in self.tariffs.get(category, ()) if t.valid_from <= day), None)
        if tariff is None:
            label = dict(Category.choices).get(category, category)
            raise _Bad("no_tariff", category=str(label), day=day.isoformat())
        key = (tariff.pk, consumption)
        found = self.prices.get(key)
        if found is None:
            try:
                found = self.prices[key] = charge(tariff, consumption).total
            except DomainError:
                raise _Bad("tariff_gap", m3=consumption) from None
        return found


def _nothing(value: Any) -> None:
    return None


class BillImporter(_Importer):
    """Readings (priced with our tariff) and the establishment's bills (its own amounts)."""

    record = BillRecord
    key_name = "meter_cycle"

    def __init__(self, batch: ImportBatch, layout: Layout) -> None:
        self.priced_here = batch.kind == Kind.READINGS
        self.pricer = _Pricer() if self.priced_here else None
        self.meters: dict[str, tuple[Any, str]] = {}  # meter -> (subscription id, category)
        super().__init__(batch, layout)

    def make_plan(self) -> Plan:
        readings: Plan = (
            ("meter_number", _meter),
            ("cycle", _cycle),
            ("period_end", _date),
            ("previous_reading", _whole),
            ("current_reading", _whole),
            ("estimated", _flag),
        )
        if self.priced_here:
            return (
                *readings,
                ("consumption", _nothing),
                ("amount", _nothing),
                ("due_date", _nothing),
                ("bill_id", _nothing),
            )
        in_pounds = "amount_piastres" not in self.layout.index
        return (
            *readings,
            ("consumption", _whole),
            ("amount_syp", _pounds) if in_pounds else ("amount_piastres", _piastres),
            ("due_date", functools.partial(_date, required=False)),
            ("bill_id", functools.partial(_limited, limit=60, required=False)),
        )

    def check(self, r: BillRecord) -> list[Issue]:
        if r.current < r.previous:
            return [
                Issue(r.row, "current_reading", "reading_backwards",
                      {"cur": r.current, "prev": r.previous}, str(r.current))
            ]  # fmt: skip
        if r.consumption is not None and r.consumption != r.current - r.previous:
            return [
                Issue(r.row, "consumption", "consumption",
                      {"given": r.consumption, "expected": r.current - r.previous},
                      str(r.consumption))
            ]  # fmt: skip
        if r.due_date is not None and r.due_date < r.period_end:
            return [Issue(r.row, "due_date", "due_before_end", {}, r.due_date.isoformat())]
        return []

    def key(self, record: BillRecord) -> tuple[str, ...]:
        return (record.meter, record.cycle)

    def _subscriptions(self, meters: set[str]) -> None:
        unknown = [m for m in meters if m not in self.meters]
        if unknown:
            rows = _select(Subscription, ("meter_number", "id", "category"), meter_number=unknown)
            self.meters.update((m, (pk, category)) for m, pk, category in rows)

    def write(self, records: list[BillRecord], issues: list[Issue]) -> None:
        self._subscriptions({r.meter for r in records})
        pairs = {(self.meters[r.meter][0], r.cycle) for r in records if r.meter in self.meters}
        stored = {(b[0], b[1]): b[2:] for b in _stored_bills(pairs)}
        moment = self.db.moment(timezone.now())
        day = self.db.day
        unpaid = Bill.State.UNPAID.value
        created_ids: list[str] = []
        fresh = iter(self.db.new_ids(len(records)))
        rows: list[tuple[Any, ...]] = []
        for r in records:
            found = self.meters.get(r.meter)
            if found is None:
                issues.append(Issue(r.row, "meter_number", "unknown_meter", {}, r.meter))
                continue
            subscription_id, category = found
            consumption = r.current - r.previous
            amount = r.amount
            if amount is None:
                try:
                    amount = self._price(category, r.period_end, consumption)
                except _Bad as bad:
                    issues.append(
                        Issue(r.row, "period_end", bad.code, bad.params, r.period_end.isoformat())
                    )
                    continue
            due = r.due_date or r.period_end + dt.timedelta(days=DUE_DAYS)
            existing = stored.get((subscription_id, r.cycle))
            if existing is not None:
                if self._same(existing, r, consumption, amount, due):
                    self.tally.unchanged += 1
                else:
                    issues.append(
                        Issue(r.row, "cycle", "bill_differs", {"cycle": r.cycle}, r.cycle)
                    )
                continue
            pk = next(fresh)
            created_ids.append(pk)
            rows.append(
                (pk, subscription_id, r.cycle, day(r.period_end), r.previous,
                 r.current, r.estimated, consumption, amount, day(due), r.external_ref or "",
                 unpaid, moment)
            )  # fmt: skip
        _insert(Bill, BILL_FIELDS, rows)
        self.tally.created += len(rows)
        if rows:
            capture.rows_changed(Bill, created_ids)

    def _price(self, category: str, day: dt.date, consumption: int) -> int:
        assert self.pricer is not None
        return self.pricer.price(category, day, consumption)

    def _same(
        self, existing: tuple[Any, ...], r: BillRecord, consumption: int, amount: int, due: dt.date
    ) -> bool:
        """As `services.record_bill`: the same readings are the same bill; the
        establishment's own bill must also say the same end, amount, due date and id."""
        previous, current, estimated, end, stored_consumption, stored_amount, stored_due, ref = (
            existing
        )
        if (previous, current, bool(estimated)) != (r.previous, r.current, r.estimated):
            return False
        if self.priced_here:
            return True
        day = self.db.day
        return (day(end), stored_consumption, stored_amount, day(stored_due), ref) == (
            day(r.period_end),
            consumption,
            amount,
            day(due),
            r.external_ref or "",
        )


BILL_COLUMNS = ("subscription", "cycle", "previous_reading", "current_reading", "estimated",
                "period_end", "consumption", "amount", "due_date", "external_ref")  # fmt: skip


def _stored_bills(pairs: set[tuple[Any, str]]) -> list[tuple[Any, ...]]:
    """The bills already stored for these (subscription, cycle) pairs. PostgreSQL is asked
    pair by pair through the unique index (a LATERAL probe): given 5,000 ids at once it
    scans every bill instead (48 ms against 6 ms a chunk at 300,000 bills, and growing)."""
    if connection.vendor != "postgresql":
        return _select(
            Bill,
            BILL_COLUMNS,
            subscription={s for s, _c in pairs},
            cycle={c for _s, c in pairs},
        )
    if not pairs:
        return []
    quote = connection.ops.quote_name
    wanted = ", ".join(f"b.{quote(_column(Bill, name))}" for name in BILL_COLUMNS[2:])
    subscription, cycle = quote(_column(Bill, "subscription")), quote(_column(Bill, "cycle"))
    sql = (
        f"SELECT k.s, k.c, {wanted} FROM unnest(%s::uuid[], %s::text[]) AS k(s, c) "  # noqa: S608 - names from the model, quoted
        f"CROSS JOIN LATERAL (SELECT * FROM {quote(Bill._meta.db_table)} "
        f"WHERE {subscription} = k.s AND {cycle} = k.c LIMIT 1) AS b"
    )
    keys = list(pairs)
    with connection.cursor() as cursor:
        cursor.execute(sql, [[s for s, _c in keys], [c for _s, c in keys]])
        return list(cursor.fetchall())


IMPORTERS: dict[str, type[_Importer]] = {
    Kind.SUBSCRIBERS: SubscriberImporter,
    Kind.READINGS: BillImporter,
    Kind.BILLS: BillImporter,
}


# ---------------------------------------------------------------- the service


def max_upload_bytes() -> int:
    return int(getattr(settings, "WATER_IMPORT_MAX_BYTES", 32 * 1024 * 1024))


def kind_from_name(name: str) -> str | None:
    """`subscribers-2026-03.csv` -> subscribers (the establishment names its files so)."""
    lowered = name.lower()
    for kind in Kind:
        if lowered.startswith(kind.value):
            return kind.value
    return None


def import_file(
    content: bytes,
    file_name: str,
    kind: str,
    actor: Any = None,
    *,
    source: str = ImportBatch.Source.UPLOAD,
    force: bool = False,
    progress: Progress | None = None,
    chunk_size: int = CHUNK,
) -> ImportBatch:
    """Import one establishment file of `kind`; returns its batch (counts, refused rows).

    Refused whole (DomainError, nothing written) when it is not a readable CSV/XLSX or lacks
    a required column. A file identical to one imported before is recorded as `identical`
    and not read (pass `force` to read it again: it still changes nothing already stored).
    """
    if capture.is_center_node():
        raise DomainError(
            _("Water files are imported on the central node; a center only collects bills."),
            code="central_only",
        )
    if kind not in IMPORTERS:
        raise DomainError(_("Unknown kind of water file."), code="bad_kind")
    digest = hashlib.sha256(content).hexdigest()
    table = open_table(content)
    try:
        layout = map_columns(table.headers, kind)
        fields = {
            "kind": kind,
            "source": source,
            "file_name": (file_name or "file")[-255:],
            "sha256": digest,
            "size": len(content),
            "actor": actor if getattr(actor, "pk", None) else None,
            "actor_name": audit._actor_name(actor),
        }
        earlier = (
            ImportBatch.objects.filter(kind=kind, sha256=digest, state=ImportBatch.State.DONE)
            .order_by("created_at")
            .first()
        )
        if earlier is not None and not force:
            return _identical(fields, earlier, actor)
        batch = ImportBatch.objects.create(**fields)  # committed now: an interruption shows
        _run(IMPORTERS[kind](batch, layout), _chunks(table.rows, chunk_size), table, progress)
    finally:
        table.close()
    return _finish(batch, actor)


def _run(
    importer: _Importer,
    chunks: Iterator[list[tuple[int, Sequence[Any]]]],
    table: Table,
    progress: Progress | None,
) -> None:
    """Prepare and commit chunk after chunk. The next chunk is read and checked in a thread
    while this one's transaction commits: on PostgreSQL that commit is the foreign keys
    checked (deferred) for every row written, a fifth of a subscriber import, in which
    Python otherwise waits. Only then: a thread running while this chunk is written made each
    return from the database wait for the interpreter, and gained nothing on two cores. Only
    when the chunk wrote rows: a commit with nothing to check is too short to gain, and the
    handover cost a file of unchanged rows 5 % more time. The thread touches no database
    (`prepare` is plain Python)."""

    def prepare_next() -> Prepared | None:
        rows = next(chunks, None)
        return None if rows is None else importer.prepare(rows)

    def written() -> int:
        return importer.tally.created + importer.tally.updated

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="water-import") as ahead:
        upcoming: list[Future[Prepared | None]] = []

        def read_ahead(before: int) -> None:
            if written() > before:
                upcoming.append(ahead.submit(prepare_next))

        pending = prepare_next()
        while pending is not None:
            importer.commit(pending, functools.partial(read_ahead, written()))
            if progress is not None:
                progress(importer.tally.rows, table.total)
            pending = upcoming.pop().result() if upcoming else prepare_next()


def _chunks(
    rows: Iterator[tuple[int, Sequence[Any]]], size: int
) -> Iterator[list[tuple[int, Sequence[Any]]]]:
    chunk: list[tuple[int, Sequence[Any]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _identical(fields: dict[str, Any], earlier: ImportBatch, actor: Any) -> ImportBatch:
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            **fields,
            state=ImportBatch.State.IDENTICAL,
            same_as=earlier,
            finished_at=timezone.now(),
        )
        audit.record(
            "water.import_identical",
            actor=actor,
            obj=batch,
            kind=batch.kind,
            file=batch.file_name,
            sha256=batch.sha256,
            same_as=str(earlier.pk),
        )
    return batch


def _finish(batch: ImportBatch, actor: Any) -> ImportBatch:
    """One audit event for the whole file (decision 0010), with what it did."""
    with transaction.atomic():
        batch.state = ImportBatch.State.DONE
        batch.finished_at = timezone.now()
        batch.save(update_fields=["state", "finished_at"])
        audit.record(
            "water.imported",
            actor=actor,
            obj=batch,
            kind=batch.kind,
            file=batch.file_name,
            sha256=batch.sha256,
            rows=batch.rows,
            created=batch.created,
            updated=batch.updated,
            unchanged=batch.unchanged,
            failed=batch.failed,
        )
    return batch


# ---------------------------------------------------------------- the error report


def error_report_lines(batch: ImportBatch) -> Iterator[bytes]:
    """The refused rows as CSV, UTF-8 with a BOM (so Excel shows the Arabic), in the
    reader's language: row, column, value as found, reason."""
    # A streamed response is read after the view returned: keep the request's language.
    with translation.override(translation.get_language()):
        yield from _report_lines(batch)


def _report_lines(batch: ImportBatch) -> Iterator[bytes]:
    issues = batch.issues.order_by("row", "id").iterator(chunk_size=BATCH)
    yield from stream_csv(
        [_("Row"), _("Column"), _("Value"), _("Reason")],
        ([issue.row, issue.column, issue.value, issue_message(issue)] for issue in issues),
    )


# ---------------------------------------------------------------- from the establishment


@dataclass
class Fetched:
    """What became of one file the establishment offered."""

    name: str
    kind: str | None
    batch: ImportBatch | None = None
    error: str = ""


def fetch_and_import(
    actor: Any = None,
    *,
    establishment: Any = None,
    attempts: int = 3,
    wait: float = 2.0,
    sleep: Callable[[float], None] | None = None,
    on_retry: Callable[[int, Exception], None] | None = None,
    progress: Callable[[str], Progress | None] | None = None,
) -> list[Fetched]:
    """Import every file the establishment left for us, oldest first, and acknowledge each
    one imported (a time-out or an outage is tried again; the listing failing throughout
    raises `EstablishmentUnavailable`). A file whose name says no kind
    (`subscribers-…`, `readings-…`, `bills-…`) or that cannot be read stays offered and is
    reported; a file already imported is recorded as identical and acknowledged."""
    from baladiya.water.exchange import get_establishment, with_retries

    source = establishment or get_establishment()
    retried = functools.partial(
        with_retries, attempts=attempts, wait=wait, sleep=sleep, on_retry=on_retry
    )
    results: list[Fetched] = []
    for offered in retried(source.incoming):
        kind = kind_from_name(offered.name)
        result = Fetched(offered.name, kind)
        results.append(result)
        if kind is None:
            result.error = str(_("The file name does not say which kind of file it is."))
            continue
        try:
            content = retried(functools.partial(source.fetch, offered.name))
            result.batch = import_file(
                content,
                offered.name,
                kind,
                actor,
                source=ImportBatch.Source.ESTABLISHMENT,
                progress=progress(offered.name) if progress else None,
            )
            retried(functools.partial(source.acknowledge, offered.name))
        except DomainError as exc:
            result.error = str(exc.message)
    return results
