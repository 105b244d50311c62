"""Power-cut test of a center node (issue 4, point 5): SIGKILL a busy counter, restart, check.

A *worker* process is the center node C03 (`BALADIYA_NODE=center:C03`, SQLite in WAL with
`synchronous=FULL`) with its clerk and cashier working a stream of counter operations through
the service functions the screens call: submit → cash payment (receipt printed from the
committed row) → start review → approve → issue the signed document; every tenth application
is cancelled and refunded after payment instead; now and then a waiting document is handed
over. After each service call returns (committed) and its paper is printed, the worker writes
one JSON line, an *ack*, to stdout: only what was acked was promised to a citizen.

The *parent* (`run_crash_test`, no Django in its process) prepares a fresh database once,
then starts the worker, lets it run a random time after its first ack, SIGKILLs it, collects
its acks (a line cut in the middle is not an ack) and starts it again. On each start the
worker runs `core.startup.check_node_database()` (exit `EXIT_CORRUPT` if the database is
damaged) and resumes the applications left half-way. After the last kill the worker runs once
more to finish what is pending and exits by itself; then `check_invariants` runs in a fresh
process: DESIGN §5 invariants 1–5 over the database and every ack, plus SQLite's
integrity_check. `CrashHooks` lets a caller add steps (a sync, say) after each kill, after
each restart and before the checks.

Where each kill landed (reading, inside a transaction, committing, rendering a PDF, writing an
ack, between operations) is kept in a two-byte shared file the worker updates as it goes, and
counted in the report.

What SIGKILL shows and what it cannot: it kills the process at any instruction, so a
transaction cut anywhere must leave all or nothing and the node must restart cleanly and go
on. It does not throw away the operating system's page cache, as a power cut does: that part
rests on `synchronous=FULL` (the WAL is fsynced before a commit returns), which the worker
checks at every start.

    python -m baladiya.core.crashtest prepare --db PATH        migrate, seed, open the drawer
    python -m baladiya.core.crashtest worker --db PATH --seed N [--drain]
    python -m baladiya.core.crashtest check --db PATH --acks FILE
    python -m baladiya.core.crashtest startup --db PATH        the start-up check alone
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mmap
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from baladiya.accounts.models import Citizen, User
    from baladiya.applications.models import Application
    from baladiya.catalog.models import Service
    from baladiya.centers.models import Center

Ack = dict[str, Any]

CENTER = "C03"
NODE = f"center:{CENTER}"
OPENING_FLOAT = 100_000  # 1,000.00 pounds in the drawer
CITIZENS = 30
CANCEL_EVERY = 10  # application number n with n % 10 == 0: cancelled and refunded after payment
HANDOVER_RATE = 0.2  # after an application, the chance that a waiting document is collected

EXIT_CORRUPT = 3  # the start-up check found the database damaged: the node refuses to start
EXIT_UNSAFE = 4  # readable, but not power-safe (journal or synchronous mode)

DB_NAME = "center.sqlite3"
ACKS_NAME = "acks.jsonl"
PHASE_NAME = "phase.bin"
STDERR_NAME = "worker.err"

# Where the worker is, for the parent to read after a kill: one byte each.
PHASES = ("starting", "between", "reading", "transaction", "commit", "render", "ack")
OPS = ("start", "submit", "receipt", "review", "approve", "issue", "refund", "handover")


# ================================================================ worker side (Django)


class PhaseBoard:
    """Two bytes in a shared file: the phase and the operation the worker is in."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("r+b")
        self._map = mmap.mmap(self._file.fileno(), 2)

    def op(self, name: str) -> None:
        self._map[1] = OPS.index(name)

    def phase(self, name: str) -> None:
        self._map[0] = PHASES.index(name)

    def current(self) -> str:
        return PHASES[self._map[0]]

    @staticmethod
    def reset(path: Path) -> None:
        path.write_bytes(bytes(2))

    @staticmethod
    def read(path: Path) -> tuple[str, str]:
        raw = path.read_bytes()[:2].ljust(2, b"\0")
        return PHASES[min(raw[0], len(PHASES) - 1)], OPS[min(raw[1], len(OPS) - 1)]


class _NoBoard(PhaseBoard):
    def __init__(self) -> None:
        pass

    def op(self, name: str) -> None:
        pass

    def phase(self, name: str) -> None:
        pass

    def current(self) -> str:
        return "between"


def instrument(board: PhaseBoard) -> None:
    """Keep `board` up to date: every query (reading, or inside a transaction), every commit
    and every PDF render (documents and receipts) marks where the worker is."""
    from django.db import connection

    from baladiya.documents import rendering
    from baladiya.documents import services as documents

    def on_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        board.phase("transaction" if connection.in_atomic_block else "reading")
        return execute(sql, params, many, context)

    connection.execute_wrappers.append(on_query)
    # `commit()` ends in `_commit()` (the driver's COMMIT: with synchronous=FULL, the fsync).
    commit = connection._commit  # type: ignore[attr-defined]

    def marked_commit() -> None:
        board.phase("commit")
        commit()
        board.phase("between")

    connection._commit = marked_commit  # type: ignore[attr-defined]

    def marked(render: Callable[..., bytes]) -> Callable[..., bytes]:
        def run(*args: Any, **kwargs: Any) -> bytes:
            before = board.current()
            board.phase("render")
            try:
                return render(*args, **kwargs)
            finally:
                board.phase(before)

        return run

    rendering.render_pdf = marked(rendering.render_pdf)  # type: ignore[assignment]
    documents.render_pdf = marked(documents.render_pdf)  # type: ignore[attr-defined]


def field_value(field: Any) -> str:
    """A valid value for a service's form field (any counter service of the seed)."""
    kind = getattr(field, "type", "text")
    if kind == "national_number":
        return "04019999999"
    if kind == "phone":
        return "+963944123456"
    if kind == "date":
        return "2026-01-15"
    if kind == "number":
        return "3"
    if kind == "choice":
        return str((getattr(field, "choices", None) or [""])[0])
    return "جهة عامة"


def counter_services() -> list[Service]:
    """Services a center approves and issues at its counter, with a fee today, picked up at
    the center, needing no paper: what the stream submits (varied fees)."""
    from django.utils import timezone

    from baladiya.applications import hooks
    from baladiya.catalog.models import Service
    from baladiya.documents.rendering import template_exists

    today = timezone.localdate()
    found = []
    for service in Service.objects.filter(approval=Service.Approval.COUNTER, active=True).order_by(
        "code"
    ):
        if (
            "pickup" in (service.delivery_modes or [])
            and service.fee_on(today) > 0
            and template_exists(service.document_template)
            and not service.attachments.filter(required=True).exists()
            and not hooks.has_rules(service.code)  # e.g. a water clearance needs a real meter
        ):
            found.append(service)
    return found


@dataclass
class CounterDesk:
    """A center's clerk and cashier at work: each method is one service call (one commit)
    and returns its ack. The path an application takes follows from its state and number,
    so a restarted worker resumes an application exactly where the last one stopped."""

    center: Center
    clerk: User
    cashier: User
    services: list[Service]
    citizens: list[Citizen]
    rng: random.Random
    board: PhaseBoard = field(default_factory=_NoBoard)

    @classmethod
    def at_node(cls, rng: random.Random, board: PhaseBoard | None = None) -> CounterDesk:
        """The seeded clerk and cashier of this node's center (`prepare` made them)."""
        from django.conf import settings

        from baladiya.accounts.models import Citizen, User
        from baladiya.centers.models import Center

        code = settings.NODE_CENTER_CODE
        desk = cls(
            center=Center.objects.get(code=code),
            clerk=User.objects.get(username=f"{code.lower()}.clerk"),
            cashier=User.objects.get(username=f"{code.lower()}.cashier"),
            services=counter_services(),
            citizens=list(Citizen.objects.order_by("national_number")),
            rng=rng,
            board=board or _NoBoard(),
        )
        if not desk.services or not desk.citizens:
            raise RuntimeError("no counter service or no citizen: run `prepare` first")
        return desk

    # ------------------------------------------------ the path of an application

    def next_step(self, app: Application) -> Callable[[Application], Ack] | None:
        from baladiya.applications.workflow import Status

        if app.status == Status.SUBMITTED:
            return self.pay
        if app.status == Status.PAID:
            return self.cancel_and_refund if cancelled_on_purpose(app) else self.review
        if app.status == Status.IN_REVIEW:
            return self.approve
        if app.status == Status.APPROVED:
            return self.issue
        return None  # finished, or waiting for its citizen to collect the document

    def unfinished(self) -> list[Application]:
        """Applications of this center a killed worker left half-way, oldest first."""
        from baladiya.applications.models import Application
        from baladiya.applications.workflow import Status

        steps = [Status.SUBMITTED, Status.PAID, Status.IN_REVIEW, Status.APPROVED]
        return list(
            Application.objects.filter(center=self.center, status__in=steps)
            .select_related("service", "applicant", "center", "pickup_center")
            .order_by("created_at")
        )

    def waiting_for_pickup(self) -> Application | None:
        from baladiya.applications.models import Application
        from baladiya.applications.workflow import Status

        return (
            Application.objects.filter(pickup_center=self.center, status=Status.READY_FOR_PICKUP)
            .select_related("applicant", "center", "pickup_center")
            .order_by("updated_at")
            .first()
        )

    # ------------------------------------------------ one service call each

    def submit(self) -> tuple[Application, Ack]:
        from baladiya.applications import services as applications

        self.board.op("submit")
        service = self.rng.choice(self.services)
        sub = applications.Submission(
            service=service,
            applicant=self.rng.choice(self.citizens),
            center=self.center,
            fields={f.name: field_value(f) for f in service.fields.all()},
            delivery_mode="pickup",
            pickup_center=self.center,
        )
        app = applications.submit_application(self.clerk, sub)
        return app, {"op": "submit", "reference": app.reference, "amount": app.fee_amount}

    def pay(self, app: Application) -> Ack:
        """Cash in, then the receipt printed from the committed row (as the receipt page's
        PDF link does), then the ack: the citizen holds the paper."""
        from baladiya.payments import services as payments
        from baladiya.payments.models import Receipt

        self.board.op("receipt")
        receipt = self._with_drawer(lambda: payments.record_cash_payment(app, self.cashier))
        stored = Receipt.objects.select_related("center", "application__service").get(
            number=receipt.number
        )
        payments.receipt_pdf(stored)
        return {
            "op": "receipt",
            "reference": app.reference,
            "receipt": stored.number,
            "amount": stored.amount,
        }

    def review(self, app: Application) -> Ack:
        from baladiya.applications import services as applications

        self.board.op("review")
        applications.start_review(app, self.clerk)
        return {"op": "review", "reference": app.reference}

    def approve(self, app: Application) -> Ack:
        from baladiya.applications import services as applications

        self.board.op("approve")
        applications.approve(app, self.clerk)
        return {"op": "approve", "reference": app.reference}

    def issue(self, app: Application) -> Ack:
        from baladiya.documents.services import issue_document

        self.board.op("issue")
        doc = issue_document(app, self.clerk)
        return {"op": "issue", "reference": app.reference, "document": doc.number}

    def cancel_and_refund(self, app: Application) -> Ack:
        from baladiya.payments import services as payments

        self.board.op("refund")
        refund = self._with_drawer(
            lambda: payments.cancel_with_refund(app, self.cashier, "طلب المواطن الإلغاء")
        )
        return {
            "op": "refund",
            "reference": app.reference,
            "refund": refund.number,
            "receipt": refund.receipt.number,
            "amount": refund.amount,
        }

    def hand_over(self, app: Application) -> Ack:
        from baladiya.delivery.models import IdKind
        from baladiya.delivery.services import hand_over

        self.board.op("handover")
        hand_over(app, self.clerk, "", IdKind.NATIONAL_ID, app.applicant.national_number)
        return {"op": "handover", "reference": app.reference}

    # ------------------------------------------------ the drawer

    def open_drawer(self) -> None:
        """Make sure the cashier has a drawer open today. A drawer left open since an earlier
        day (the worker ran past midnight) is counted as expected and closed first."""
        from django.utils import timezone

        from baladiya.payments import services as payments

        session = payments.current_session(self.cashier)
        if session is not None and session.business_date != timezone.localdate():
            expected = payments.session_totals(session).expected
            payments.close_session(session, self.cashier, expected)
            session = None
        if session is None:
            payments.open_session(self.cashier, OPENING_FLOAT)

    def _with_drawer(self, work: Callable[[], Any]) -> Any:
        from baladiya.core.errors import DomainError

        try:
            return work()
        except DomainError as exc:
            if exc.code not in ("stale_session", "no_open_session"):
                raise
        self.open_drawer()
        return work()


def cancelled_on_purpose(app: Application) -> bool:
    from baladiya.core.startup import sequence_of

    return sequence_of(app.reference) % CANCEL_EVERY == 0


def serve(desk: CounterDesk, emit: Callable[[Ack], None], *, drain: bool = False) -> None:
    """Finish what a killed worker left, then (unless `drain`) work new applications until
    killed. `emit` is called after each service call has returned."""
    for app in desk.unfinished():
        finish(desk, app, emit)
    if drain:
        return
    while True:
        app, ack = desk.submit()
        emit(ack)
        finish(desk, app, emit)
        if desk.rng.random() < HANDOVER_RATE and (waiting := desk.waiting_for_pickup()):
            emit(desk.hand_over(waiting))


def finish(desk: CounterDesk, app: Application, emit: Callable[[Ack], None]) -> None:
    while (step := desk.next_step(app)) is not None:
        emit(step(app))


def ack_writer(board: PhaseBoard, fd: int = 1) -> Callable[[Ack], None]:
    """Write each ack as one line with one write() (a pipe takes up to 4 KiB at once, so
    no other line is ever interleaved in it), unbuffered."""

    def emit(ack: Ack) -> None:
        board.phase("ack")
        data = (json.dumps(ack, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        while data:
            data = data[os.write(fd, data) :]
        board.phase("between")

    return emit


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baladiya.settings")
    import django

    django.setup()


def _startup_check() -> int:
    """Run the start-up check; print its problems on stderr; the exit code it calls for."""
    from baladiya.core.startup import check_node_database

    report = check_node_database()
    for line in report.lines():
        print(line, file=sys.stderr)
    if report.corrupt:
        return EXIT_CORRUPT
    return EXIT_UNSAFE if report.problems else 0


def worker_main(seed: int, drain: bool, phase_file: Path | None) -> int:
    board = PhaseBoard(phase_file) if phase_file else _NoBoard()
    board.phase("starting")
    _setup_django()
    code = _startup_check()
    if code:
        return code
    instrument(board)
    desk = CounterDesk.at_node(random.Random(seed), board)
    desk.open_drawer()
    serve(desk, ack_writer(board), drain=drain)
    return 0


def prepare_main(enrolled: bool = False) -> dict[str, Any]:
    """A new node's database: tables, the Homs reference data with demo staff, citizens,
    the signing key and the cashier's open drawer (seeding is kept out of the worker).
    `enrolled`: the database is an enrolled center node's (its reference data came from the
    central node): only the citizens and the drawer are added."""
    import datetime as dt

    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # throwaway
    from baladiya.accounts.models import Citizen
    from baladiya.core.seed.homs import seed_homs
    from baladiya.documents import signing

    if not enrolled:
        call_command("migrate", verbosity=0)
        seed_homs(demo=True)
    for i in range(CITIZENS):
        Citizen.objects.get_or_create(
            national_number=f"0903{i:07d}",
            defaults={
                "first_name": ["أحمد", "ريم", "خالد", "نور", "يوسف", "هالة"][i % 6],
                "father_name": ["محمد", "حسن", "سليم"][i % 3],
                "last_name": ["الحمصي", "الأتاسي", "الدروبي", "السباعي", "الجندي"][i % 5],
                "mother_name": "فاطمة",
                "birth_date": dt.date(1960 + i, 1 + i % 12, 1 + i % 28),
                "phone": f"+9639330{i:05d}",
            },
        )
    signing.active_key()
    desk = CounterDesk.at_node(random.Random(0))
    desk.open_drawer()
    return {"services": [s.code for s in desk.services], "citizens": len(desk.citizens)}


# ================================================================ the checks (Django)


def check_invariants(
    acks: Iterable[Ack], center_code: str = CENTER, *, file_checks: bool = True
) -> list[str]:
    """Every problem found in this database after the kills, one line each ([] = all good):

    4. everything acked exists as acked (number, application, amount, step in its history),
       and no number was acked twice;
    2. each number series of the center (applications, receipts R, documents D, refunds F) has
       every number from 1 to its counter's value exactly once, nothing above it;
    1. for each business day: receipts − refunds = what the drawers expect
       (`payments.services.session_totals`), and the day's reconciliation balances
       (`payments.reports.daily_reconciliation`);
    3. every document issued verifies (`documents.verification`: signature, register, file);
    5. the audit chain verifies in full;
    and no application is half-way between two states (a paid one without its receipt, …).
    `file_checks`: also SQLite's integrity_check and the node's start-up check (not for a
    test database in memory).
    """
    from baladiya.centers.models import Center
    from baladiya.core import audit

    center = Center.objects.get(code=center_code)
    acks = list(acks)
    problems = _acks_problems(acks)
    problems += _series_problems(center_code)
    problems += _money_problems(center)
    problems += _document_problems(center)
    problems += [f"audit chain: {p}" for p in audit.verify_chain()]
    problems += _state_problems(center)
    if file_checks:
        problems += _file_problems()
    return problems


def _acks_problems(acks: list[Ack]) -> list[str]:
    from baladiya.applications.models import Application, ApplicationEvent
    from baladiya.delivery.models import Handover
    from baladiya.documents.models import IssuedDocument
    from baladiya.payments.models import PaymentMethod, Receipt, Refund

    refs = {a["reference"] for a in acks}
    apps = {a.reference: a for a in Application.objects.filter(reference__in=refs)}
    steps = set(
        ApplicationEvent.objects.filter(application__reference__in=refs).values_list(
            "application__reference", "action"
        )
    )
    receipts = {
        r.number: r
        for r in Receipt.objects.filter(application__reference__in=refs).select_related(
            "application"
        )
    }
    refunds = {
        f.number: f
        for f in Refund.objects.filter(receipt__application__reference__in=refs).select_related(
            "receipt__application"
        )
    }
    documents = dict(
        IssuedDocument.objects.filter(application__reference__in=refs).values_list(
            "number", "application__reference"
        )
    )
    handed = set(
        Handover.objects.filter(application__reference__in=refs).values_list(
            "application__reference", flat=True
        )
    )
    problems: list[str] = []
    seen: dict[str, str] = {}
    for ack in acks:
        op, ref = ack["op"], ack["reference"]
        number = ack.get(
            {"receipt": "receipt", "issue": "document", "refund": "refund"}.get(op, "")
        )
        key = ref if op == "submit" else number
        if key is not None and seen.setdefault(key, ref) != ref:
            problems.append(f"{key} was acked for {seen[key]} and again for {ref}")
        app = apps.get(ref)
        if app is None:
            problems.append(f"acked application {ref} ({op}) is missing")
            continue
        if op == "submit" and app.fee_amount != ack["amount"]:
            problems.append(f"{ref}: fee {app.fee_amount}, acked {ack['amount']}")
        elif op == "receipt":
            receipt = receipts.get(number or "")
            if receipt is None:
                problems.append(f"acked receipt {number} of {ref} is missing")
            elif (
                receipt.application is None
                or receipt.application.reference != ref
                or receipt.amount != ack["amount"]
                or receipt.method != PaymentMethod.CASH
                or receipt.session_id is None
            ):
                problems.append(f"receipt {number} is not the one acked for {ref}")
        elif op == "refund":
            refund = refunds.get(number or "")
            if refund is None:
                problems.append(f"acked refund {number} of {ref} is missing")
            elif refund.receipt.number != ack["receipt"] or refund.amount != ack["amount"]:
                problems.append(f"refund {number} is not the one acked for {ref}")
        elif op == "issue" and documents.get(number or "") != ref:
            problems.append(f"acked document {number} of {ref} is missing")
        elif op == "handover" and ref not in handed:
            problems.append(f"acked hand-over of {ref} is missing")
        elif op in ("review", "approve"):
            action = "start_review" if op == "review" else "approve"
            if (ref, action) not in steps:
                problems.append(f"acked step {action} of {ref} is not in its history")
    return problems


def _series_problems(center_code: str) -> list[str]:
    from django.apps import apps

    from baladiya.core.models import Counter as NumberCounter
    from baladiya.core.startup import NUMBER_SERIES, sequence_of

    problems: list[str] = []
    for series in NUMBER_SERIES:
        model = apps.get_model(series.model)
        numbered = 0
        counters = NumberCounter.objects.filter(scope=center_code, kind=series.kind, year__gt=0)
        for counter in counters:
            prefix = series.prefix(center_code, counter.year)
            numbers = list(
                model._default_manager.filter(
                    **{f"{series.field}__startswith": prefix}
                ).values_list(series.field, flat=True)
            )
            numbered += len(numbers)
            seqs = Counter(sequence_of(n) for n in numbers)
            doubled = sorted(s for s, n in seqs.items() if n > 1)
            missing = sorted(set(range(1, counter.value + 1)) - set(seqs))
            beyond = sorted(s for s in seqs if s > counter.value)
            for label, found in (("twice", doubled), ("missing", missing), ("above", beyond)):
                if found:
                    problems.append(
                        f"{prefix}… (counter {counter.value}): {len(found)} number(s) {label}: "
                        + ", ".join(str(s) for s in found[:10])
                    )
        # Each table holds one kind: every number of the center must be in a counter's series.
        stray = model._default_manager.filter(
            **{f"{series.field}__startswith": f"{center_code}-"}
        ).count()
        if stray != numbered:
            problems.append(
                f"{series.model}: {stray - numbered} number(s) of {center_code} outside any counter"
            )
    return problems


def _money_problems(center: Center) -> list[str]:
    from django.db.models import Sum

    from baladiya.payments import reports
    from baladiya.payments.models import CashierSession, PaymentMethod, Receipt, Refund
    from baladiya.payments.services import session_totals

    days = (
        set(Receipt.objects.filter(center=center).values_list("business_date", flat=True))
        | set(Refund.objects.filter(center=center).values_list("business_date", flat=True))
        | set(CashierSession.objects.filter(center=center).values_list("business_date", flat=True))
    )
    problems = []
    for day in sorted(days):

        def total(model: Any, day: Any = day) -> int:
            rows = model.objects.filter(center=center, business_date=day)
            return int(rows.aggregate(s=Sum("amount"))["s"] or 0)

        def cash(model: Any, day: Any = day) -> int:
            rows = model.objects.filter(center=center, business_date=day, method=PaymentMethod.CASH)
            return int(rows.aggregate(s=Sum("amount"))["s"] or 0)

        net = total(Receipt) - total(Refund)
        electronic = net - (cash(Receipt) - cash(Refund))
        drawers = 0
        for session in CashierSession.objects.filter(center=center, business_date=day):
            drawers += session_totals(session).expected - session.opening_float
        if net != drawers + electronic:
            problems.append(
                f"{center.code} {day}: receipts − refunds = {net}, "
                f"drawers expect {drawers} (+ {electronic} electronic)"
            )
        rec = reports.daily_reconciliation(center, day)
        if not rec.balanced:
            problems.append(
                f"{center.code} {day}: reconciliation off by {rec.difference} "
                f"(receipts − refunds {rec.net}, accounted {rec.accounted})"
            )
    return problems


def _document_problems(center: Center) -> list[str]:
    from baladiya.documents.models import IssuedDocument
    from baladiya.documents.verification import verify_number, verify_pdf

    problems = []
    for number, pdf in IssuedDocument.objects.filter(center=center).values_list("number", "pdf"):
        by_file = verify_pdf(bytes(pdf))
        by_number = verify_number(number)
        if not (by_file.ok and by_file.number == number and by_number.ok):
            problems.append(
                f"document {number} does not verify: {by_file.status} ({by_file.message}) / "
                f"{by_number.status}"
            )
    return problems


def _state_problems(center: Center) -> list[str]:
    """No application stopped between two states: a transaction cut anywhere leaves all of
    it or none of it."""
    from django.db.models import Count, Sum

    from baladiya.applications.models import Application, ApplicationEvent
    from baladiya.applications.workflow import Status
    from baladiya.delivery.models import Handover
    from baladiya.documents.models import IssuedDocument
    from baladiya.payments.models import Receipt, Refund

    paid_states = {
        Status.PAID,
        Status.IN_REVIEW,
        Status.APPROVED,
        Status.ISSUED,
        Status.READY_FOR_PICKUP,
        Status.HANDED_OVER,
    }
    with_document = {Status.ISSUED, Status.READY_FOR_PICKUP, Status.HANDED_OVER}
    apps = Application.objects.filter(center=center)
    received = dict(
        Receipt.objects.filter(application__in=apps)
        .values("application_id")
        .annotate(n=Count("id"))
        .values_list("application_id", "n")
    )
    paid_in = dict(
        Receipt.objects.filter(application__in=apps)
        .values("application_id")
        .annotate(s=Sum("amount"))
        .values_list("application_id", "s")
    )
    paid_back = dict(
        Refund.objects.filter(receipt__application__in=apps)
        .values("receipt__application_id")
        .annotate(s=Sum("amount"))
        .values_list("receipt__application_id", "s")
    )
    documented = set(
        IssuedDocument.objects.filter(application__in=apps).values_list("application_id", flat=True)
    )
    handed = set(
        Handover.objects.filter(application__in=apps).values_list("application_id", flat=True)
    )
    last_step: dict[Any, str] = {}
    for app_id, to_status in (
        ApplicationEvent.objects.filter(application__in=apps)
        .order_by("created_at", "id")
        .values_list("application_id", "to_status")
    ):
        last_step[app_id] = to_status
    problems = []
    for app in apps.only("id", "reference", "status"):
        status = app.status
        wrong = []
        if (received.get(app.pk, 0) == 1) != (status in paid_states or bool(paid_back.get(app.pk))):
            wrong.append(f"{received.get(app.pk, 0)} receipt(s)")
        if status == Status.CANCELLED and paid_in.get(app.pk, 0) != paid_back.get(app.pk, 0):
            wrong.append(f"paid {paid_in.get(app.pk, 0)}, refunded {paid_back.get(app.pk, 0)}")
        if status != Status.CANCELLED and paid_back.get(app.pk):
            wrong.append("a refund")
        if (app.pk in documented) != (status in with_document):
            wrong.append("document" if app.pk in documented else "no document")
        if (app.pk in handed) != (status == Status.HANDED_OVER):
            wrong.append("hand-over" if app.pk in handed else "no hand-over")
        if last_step.get(app.pk) != status:
            wrong.append(f"history ends at {last_step.get(app.pk)}")
        if wrong:
            problems.append(f"{app.reference} is “{status}” with " + ", ".join(wrong))
    return problems


def _file_problems() -> list[str]:
    from django.db import connection

    from baladiya.core.startup import check_node_database

    problems = [f"start-up check: {line}" for line in check_node_database().lines()]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            result = [str(row[0]) for row in cursor.fetchall()]
        if result != ["ok"]:
            problems.append("integrity_check: " + "; ".join(result[:10]))
    return problems


def check_main(acks_file: Path) -> dict[str, Any]:
    from baladiya.applications.models import Application
    from baladiya.documents.models import IssuedDocument
    from baladiya.payments.models import Receipt, Refund

    acks = read_acks(acks_file)
    problems = check_invariants(acks)
    return {
        "problems": problems,
        "rows": {
            "applications": Application.objects.count(),
            "receipts": Receipt.objects.count(),
            "documents": IssuedDocument.objects.count(),
            "refunds": Refund.objects.count(),
        },
    }


# ================================================================ parent side (no Django)


@dataclass
class CrashHooks:
    """Extra steps around the kills (e.g. a sync with the central node, issue 4).

    `after_kill(i, db)`: the node is down after kill number i (0-based).
    `after_start(i, db)`: run i's worker has printed its first ack (the node is serving).
    `before_checks(db)`: after the final run, before the invariants are checked.
    `extra_checks(db)`: more problems to report (lines), after the invariants.
    """

    after_kill: Callable[[int, Path], None] | None = None
    after_start: Callable[[int, Path], None] | None = None
    before_checks: Callable[[Path], None] | None = None
    extra_checks: Callable[[Path], list[str]] | None = None


@dataclass
class CrashReport:
    kills: int = 0  # SIGKILLs done
    runs: int = 0  # worker starts, the final one included
    acks: list[Ack] = field(default_factory=list)
    cut_lines: int = 0  # output lines cut by a kill: never counted as acks
    kill_phases: Counter[str] = field(default_factory=Counter)  # "commit", "render", …
    kill_ops: Counter[str] = field(default_factory=Counter)  # "receipt", "issue", …
    problems: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # records in the final database
    seconds: float = 0.0  # the whole test
    serving_seconds: float = 0.0  # first ack to kill, summed over the runs
    db: Path | None = None

    @property
    def ack_counts(self) -> Counter[str]:
        return Counter(a["op"] for a in self.acks)

    @property
    def ops_per_second(self) -> float:
        return len(self.acks) / self.serving_seconds if self.serving_seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "kills": self.kills,
            "runs": self.runs,
            "acks": len(self.acks),
            "acks_by_op": dict(sorted(self.ack_counts.items())),
            "cut_lines": self.cut_lines,
            "kill_phases": dict(self.kill_phases.most_common()),
            "kill_ops": dict(self.kill_ops.most_common()),
            "rows": self.rows,
            "ops_per_second": round(self.ops_per_second, 1),
            "seconds": round(self.seconds, 1),
            "problems": self.problems,
        }


def child_env(db: Path) -> dict[str, str]:
    """The center node's environment: its own SQLite file and var folder, test mode."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BALADIYA_KEY_DIR", "BALADIYA_MEDIA_DIR", "BALADIYA_TEST_DB_NAME")
    }
    env.update(
        BALADIYA_NODE=NODE,
        DATABASE_URL=f"sqlite:///{db}",
        BALADIYA_TESTING="1",
        BALADIYA_VAR_DIR=str(db.parent / "var"),
        DJANGO_SETTINGS_MODULE="baladiya.settings",
        BALADIYA_LOG_LEVEL="ERROR",
    )
    return env


def _command(action: str, db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "baladiya.core.crashtest", action, "--db", str(db), *args]


def run_child(action: str, db: Path, *args: str, timeout: float = 600) -> dict[str, Any]:
    """Run a one-shot step (prepare, check) in its own process; its last stdout line, parsed."""
    done = subprocess.run(
        _command(action, db, *args),
        env=child_env(db),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"crashtest {action} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


class _Output:
    """Drains a worker's stdout in a thread; keeps complete lines, and the cut last one."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[bytes] = []
        self.cut = b""
        self.first = threading.Event()
        self._stream = stream
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        pending = b""
        while chunk := self._stream.read1(65536):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            if complete:
                self.lines.extend(complete)
                self.first.set()
        self.cut = pending
        self.first.set()  # end of output: wake the waiter either way

    def join(self) -> None:
        self._thread.join(timeout=30)


@dataclass
class _Run:
    acks: list[Ack]
    cut: bool
    problem: str = ""
    serving: float = 0.0


def _stderr_tail(db: Path, lines: int = 15) -> str:
    try:
        text = (db.parent / STDERR_NAME).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _parse(lines: list[bytes]) -> tuple[list[Ack], list[str]]:
    acks, problems = [], []
    for line in lines:
        try:
            ack = json.loads(line)
        except ValueError:
            problems.append(f"a complete output line is not an ack: {line[:200]!r}")
            continue
        if isinstance(ack, dict) and "op" in ack and "reference" in ack:
            acks.append(ack)
        else:
            problems.append(f"a complete output line is not an ack: {line[:200]!r}")
    return acks, problems


def _start(db: Path, seed: int, *, drain: bool = False) -> subprocess.Popen[bytes]:
    args = ["--seed", str(seed), "--phase-file", str(db.parent / PHASE_NAME)]
    if drain:
        args.append("--drain")
    with (db.parent / STDERR_NAME).open("wb") as err:
        return subprocess.Popen(
            _command("worker", db, *args), env=child_env(db), stdout=subprocess.PIPE, stderr=err
        )


def _kill_run(
    db: Path,
    seed: int,
    delay: float,
    timeout: float,
    after_start: Callable[[], None] | None,
) -> _Run:
    """Start the worker, wait for its first ack, let it work `delay` seconds, SIGKILL it."""
    PhaseBoard.reset(db.parent / PHASE_NAME)
    proc = _start(db, seed)
    out = _Output(proc.stdout)
    problem = ""
    serving = 0.0
    if not out.first.wait(timeout) or not out.lines:
        problem = "no ack in time" if proc.poll() is None else "exited before its first ack"
        proc.kill()
    else:
        started = time.monotonic()
        if after_start is not None:
            after_start()
        time.sleep(max(0.0, delay - (time.monotonic() - started)))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        else:
            problem = "exited by itself"
        serving = time.monotonic() - started
    code = proc.wait()
    out.join()
    acks, garbled = _parse(out.lines)
    if problem:
        problem = f"worker (seed {seed}) {problem}, exit code {code}:\n{_stderr_tail(db)}"
    elif garbled:
        problem = "; ".join(garbled)
    return _Run(acks, bool(out.cut), problem, serving)


def _final_run(db: Path, seed: int, timeout: float) -> _Run:
    """Restart once more and let the node finish what is pending; it exits by itself."""
    PhaseBoard.reset(db.parent / PHASE_NAME)
    proc = _start(db, seed, drain=True)
    out = _Output(proc.stdout)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    out.join()
    acks, garbled = _parse(out.lines)
    problem = "; ".join(garbled)
    if code:
        problem = f"the final restart failed, exit code {code}:\n{_stderr_tail(db)}"
    return _Run(acks, bool(out.cut), problem)


def run_crash_test(
    kills: int,
    seed: int,
    db_dir: str | Path,
    *,
    window: tuple[float, float] = (0.05, 0.6),
    hooks: CrashHooks | None = None,
    progress: Callable[[CrashReport], None] | None = None,
    start_timeout: float = 120.0,
    enrolled: bool = False,
) -> CrashReport:
    """Prepare a fresh center database in `db_dir`, kill its worker `kills` times at random
    points (`window`: seconds after its first ack), restart it each time, then check.

    Returns a `CrashReport`; `problems == []` when nothing acked was lost, no number is
    missing or doubled, the money balances, every document verifies and the database is
    intact. `progress(report)` is called after each kill. `enrolled`: `db_dir` already holds an
    enrolled center node's database (issue 4: the kills are followed by sync)."""
    started = time.monotonic()
    hooks = hooks or CrashHooks()
    folder = Path(db_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB_NAME
    if not enrolled:
        for stale in folder.glob(f"{DB_NAME}*"):
            stale.unlink()
    report = CrashReport(db=db)
    run_child("prepare", db, *(["--enrolled"] if enrolled else []))
    rng = random.Random(seed)
    for i in range(kills):
        run = _kill_run(
            db,
            rng.randrange(2**31),
            rng.uniform(*window),
            start_timeout,
            _bound(hooks.after_start, i, db),
        )
        report.runs += 1
        _add(report, run)
        if run.problem:
            report.problems.append(run.problem)
            break
        report.kills += 1
        phase, op = PhaseBoard.read(folder / PHASE_NAME)
        report.kill_phases[phase] += 1
        report.kill_ops[op] += 1
        if hooks.after_kill is not None:
            hooks.after_kill(i, db)
        if progress is not None:
            progress(report)
    if not report.problems:
        run = _final_run(db, rng.randrange(2**31), start_timeout)
        report.runs += 1
        _add(report, run)
        if run.problem:
            report.problems.append(run.problem)
    if hooks.before_checks is not None:
        hooks.before_checks(db)
    write_acks(folder / ACKS_NAME, report.acks)
    checked = run_child("check", db, "--acks", str(folder / ACKS_NAME))
    report.problems += checked["problems"]
    report.rows = checked["rows"]
    if hooks.extra_checks is not None:
        report.problems += hooks.extra_checks(db)
    report.seconds = time.monotonic() - started
    return report


def _bound(hook: Callable[[int, Path], None] | None, i: int, db: Path) -> Callable[[], None] | None:
    return None if hook is None else lambda: hook(i, db)


def _add(report: CrashReport, run: _Run) -> None:
    report.acks += run.acks
    report.cut_lines += int(run.cut)
    report.serving_seconds += run.serving


def write_acks(path: Path, acks: list[Ack]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for ack in acks:
            fh.write(json.dumps(ack, ensure_ascii=False) + "\n")


def read_acks(path: Path) -> list[Ack]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ================================================================ command line


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Keep stray prints (migrations, seeding) off stdout: stdout carries one JSON line."""
    saved = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m baladiya.core.crashtest")
    parser.add_argument("action", choices=["prepare", "worker", "check", "startup"])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drain", action="store_true", help="finish pending work, then exit")
    parser.add_argument("--phase-file", type=Path)
    parser.add_argument("--acks", type=Path)
    parser.add_argument("--enrolled", action="store_true", help="prepare: keep the node's data")
    args = parser.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{args.db}")
    if args.action == "worker":
        return worker_main(args.seed, args.drain, args.phase_file)
    _setup_django()
    if args.action == "startup":
        return _startup_check()
    with _stdout_to_stderr():
        if args.action == "prepare":
            result = prepare_main(enrolled=args.enrolled)
        else:
            if args.acks is None:
                parser.error("check needs --acks")
            result = check_main(args.acks)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
