"""What a node checks about its database each time it starts (issue 4: power cuts lose nothing).

`check_node_database()` answers with a `StartupReport`. On SQLite (a center's embedded
engine) it checks, in this order:

1. the journal is WAL and `synchronous` is FULL on this connection (`settings.py` asks for both
   on every connection; anything else may lose a committed receipt when the power goes);
2. `PRAGMA quick_check` says ok (pages, records and indexes readable and consistent);
3. the end of the audit chain verifies (the last `AUDIT_TAIL` events and the head row:
   `core.audit.verify_tail`, fast whatever the log's length);
4. no number counter is behind its records: for every counter series of applications,
   receipts, documents and refunds this node writes, no stored number is above the counter's
   value (else the next number handed out already exists and every counter operation of that
   kind fails).

On PostgreSQL only 3 and 4 apply. Each problem is a translated, human-readable line; a
`corruption` problem means the node must not start (`StartupReport.corrupt`), a `config`
problem means the database is readable but not power-safe. The caller prints the lines.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import Error, connection
from django.db.models.functions import Length
from django.utils.translation import gettext as _

from baladiya.core import audit, numbering
from baladiya.core.errors import DomainError
from baladiya.core.ids import format_reference
from baladiya.core.models import Counter

AUDIT_TAIL = 1000
CONFIG = "config"
CORRUPTION = "corruption"
SYNCHRONOUS_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
QUICK_CHECK_LINES = 10  # quick_check stops listing after this many problems


@dataclass(frozen=True)
class NumberSeries:
    """A kind of `core.Counter` series and the records it numbers (`core.numbering`)."""

    kind: str  # Counter.kind; the letter in the number, except applications ("A", none)
    model: str  # app_label.ModelName
    field: str

    def prefix(self, scope: str, year: int) -> str:
        """`C03-R26-` for receipts of C03 in 2026: every number of the series starts so."""
        return format_reference(scope, year, 0, "" if self.kind == "A" else self.kind)[:-6]


NUMBER_SERIES = (
    NumberSeries("A", "applications.Application", "reference"),
    NumberSeries("R", "payments.Receipt", "number"),
    NumberSeries("D", "documents.IssuedDocument", "number"),
    NumberSeries("F", "payments.Refund", "number"),
)


@dataclass(frozen=True)
class Problem:
    kind: str  # CONFIG or CORRUPTION
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class StartupReport:
    engine: str
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was checked, one line each
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def corrupt(self) -> bool:
        """The database cannot be trusted: refuse to start."""
        return any(p.kind == CORRUPTION for p in self.problems)

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


def check_node_database() -> StartupReport:
    """Check the node's database before it serves anyone (see the module docstring)."""
    started = time.perf_counter()
    report = StartupReport(engine=connection.vendor)
    try:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                report.problems += sqlite_problems(cursor)
            report.checked.append(_("SQLite journal, synchronous mode and quick_check"))
        if not report.corrupt:  # an unreadable file says nothing more
            report.problems += audit_problems()
            report.checked.append(_("the last %(n)d audit events") % {"n": AUDIT_TAIL})
            report.problems += counter_problems()
            report.checked.append(_("number counters against their records"))
    except (Error, sqlite3.Error) as exc:
        report.problems.append(_unreadable(exc))
    report.seconds = time.perf_counter() - started
    return report


def sqlite_problems(cursor: Any) -> list[Problem]:
    """Journal mode, synchronous mode and `quick_check` through a DB-API cursor on an SQLite
    database (Django's, or `sqlite3`'s on a file). Never raises: unreadable is a problem."""
    problems: list[Problem] = []
    try:
        mode = str(_pragma(cursor, "journal_mode")[0]).lower()
        if mode != "wal":
            problems.append(
                Problem(
                    CONFIG,
                    _(
                        "The database journal is “%(mode)s”, not WAL: a power cut may lose or "
                        "damage committed receipts. Check that the database folder is on a "
                        "local disk."
                    )
                    % {"mode": mode},
                )
            )
        synchronous = int(_pragma(cursor, "synchronous")[0])
        if synchronous < SYNCHRONOUS_FULL:
            problems.append(
                Problem(
                    CONFIG,
                    _(
                        "SQLite synchronous mode is %(mode)s, not FULL (2): the last receipts "
                        "before a power cut could be lost."
                    )
                    % {"mode": synchronous},
                )
            )
        result = [str(row) for row in _pragma(cursor, f"quick_check({QUICK_CHECK_LINES})")]
        if result != ["ok"]:
            problems.append(
                Problem(
                    CORRUPTION,
                    _("The database file is damaged (SQLite quick_check): %(details)s")
                    % {"details": "; ".join(result)},
                )
            )
    except (Error, sqlite3.Error) as exc:
        problems.append(_unreadable(exc))
    return problems


def _pragma(cursor: Any, name: str) -> list[Any]:
    cursor.execute(f"PRAGMA {name}")
    return [row[0] for row in cursor.fetchall()]


def _unreadable(exc: BaseException) -> Problem:
    return Problem(
        CORRUPTION,
        _("The database cannot be read (%(error)s): restore it from a backup or ask support.")
        % {"error": str(exc) or exc.__class__.__name__},
    )


def audit_problems(tail: int = AUDIT_TAIL) -> list[Problem]:
    return [
        Problem(CORRUPTION, _("The audit log does not verify at %(problem)s.") % {"problem": p})
        for p in audit.verify_tail(tail)
    ]


def counter_problems() -> list[Problem]:
    """A counter behind the highest number stored in its series (see the module docstring)."""
    by_kind = {s.kind: s for s in NUMBER_SERIES}
    counters = Counter.objects.filter(kind__in=list(by_kind), year__gt=0).order_by(
        "scope", "kind", "year"
    )
    problems = []
    for counter in counters:
        if not _numbered_here(counter.scope):
            continue
        series = by_kind[counter.kind]
        highest = highest_number(series, counter.scope, counter.year)
        if highest is not None and highest[0] > counter.value:
            problems.append(
                Problem(
                    CORRUPTION,
                    _(
                        "The number counter %(series)s stands at %(value)d but %(number)s is "
                        "already stored: the next number would be taken twice."
                    )
                    % {
                        "series": f"{counter.scope}/{counter.kind}/{counter.year}",
                        "value": counter.value,
                        "number": highest[1],
                    },
                )
            )
    return problems


def _numbered_here(scope: str) -> bool:
    """False for a series this node no longer writes (`numbering.SERIES_GUARDS`: the central
    node, for a center running its own node). Its records arrive by sync, numbered there, and
    the old counter row here is rightly behind them."""
    try:
        for guard in numbering.SERIES_GUARDS:
            guard(scope)
    except DomainError:
        return False
    return True


def highest_number(series: NumberSeries, scope: str, year: int) -> tuple[int, str] | None:
    """(sequence, number) of the highest number stored in a series, None if none is.
    Numbers are zero-padded to six digits and grow longer past 999999: longest, then highest."""
    model = apps.get_model(series.model)
    prefix = series.prefix(scope, year)
    number = (
        model._default_manager.filter(**{f"{series.field}__startswith": prefix})
        .order_by(Length(series.field).desc(), f"-{series.field}")
        .values_list(series.field, flat=True)
        .first()
    )
    if number is None:
        return None
    return sequence_of(number), number


def sequence_of(number: str) -> int:
    """`C03-R26-000045` -> 45."""
    return int(number.rsplit("-", 1)[1])
