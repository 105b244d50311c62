"""Benchmark worker: full counter applications per second, as a clerk and a cashier of one
center work them, through the same service functions the UI calls:
submit (clerk) -> cash payment + receipt (cashier) -> start review -> approve -> issue the
signed PDF. Citizens vary (names are shaped anew in the PDF) and have a mobile number, so
every status change also queues its SMS, as in production.

Started by bench/run.py through common.run_workers (READY/GO protocol, one JSON line out).
Environment: BENCH_APPS (applications per worker), BENCH_WORKER (index: worker i works at
the i-th center). `Desk` and `timed_stages` are shared with bench/documents.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import worker

FIRST = ["أحمد", "سامي", "فاطمة", "محمود", "ريم", "خالد", "نور", "يوسف", "هالة", "عمر"]
FATHER = ["محمد", "خالد", "حسن", "سليم", "عبد الله", "إبراهيم", "مصطفى"]
LAST = ["الحمصي", "الأتاسي", "الدروبي", "الزهراوي", "السباعي", "الجندي", "الخوري", "العلي"]


@dataclass
class Desk:
    """One center's clerk and cashier (open drawer), a pool of citizens, a counter service."""

    center: Any
    clerk: Any
    cashier: Any
    service: Any
    citizens: list[Any]
    fields: dict[str, str]
    _next: int = field(default=0)
    _drawer_day: Any = field(default=None)  # the business day of the open drawer

    @classmethod
    def open(cls, index: int, pool: int = 40) -> Desk:
        from baladiya.accounts import roles
        from baladiya.accounts.models import Citizen, User
        from baladiya.catalog.models import Service
        from baladiya.centers.models import Center
        from baladiya.core.crashtest import field_value

        staffed = [
            c
            for c in Center.objects.order_by("code")
            if User.objects.filter(center=c, groups__name=roles.CLERK).exists()
            and User.objects.filter(center=c, groups__name=roles.CASHIER).exists()
        ]
        # C03 first (the busiest center), then the others in code order.
        staffed.sort(key=lambda c: (c.code != "C03", c.code))
        center = staffed[index % len(staffed)]
        clerk = User.objects.filter(center=center, groups__name=roles.CLERK).first()
        cashier = User.objects.filter(center=center, groups__name=roles.CASHIER).first()
        service = Service.objects.filter(approval=Service.Approval.COUNTER).order_by("code").first()
        assert clerk and cashier and service, "seed data is missing a clerk, cashier or service"
        citizens = []
        for i in range(pool):
            number = f"09{index:02d}{i:07d}"
            citizen = Citizen.objects.filter(national_number=number).first()
            citizens.append(
                citizen
                or Citizen.objects.create(
                    national_number=number,
                    first_name=FIRST[i % len(FIRST)],
                    father_name=FATHER[i % len(FATHER)],
                    last_name=LAST[(i // 3) % len(LAST)],
                    mother_name=FIRST[(i + 4) % len(FIRST)],
                    birth_date=dt.date(1960 + i % 45, 1 + i % 12, 1 + i % 28),
                    phone=f"+9639{index:02d}{i:06d}",
                )
            )
        fields = {f.name: field_value(f) for f in service.fields.all()}
        return cls(center, clerk, cashier, service, citizens, fields)

    def submit(self) -> Any:
        from baladiya.applications import services as apps

        citizen = self.citizens[self._next % len(self.citizens)]
        self._next += 1
        sub = apps.Submission(
            service=self.service,
            applicant=citizen,
            center=self.center,
            fields=self.fields,
            delivery_mode="pickup",
            pickup_center=self.center,
        )
        return apps.submit_application(self.clerk, sub)

    def pay(self, app: Any) -> Any:
        from baladiya.payments import services as pay

        self._fresh_drawer()
        return pay.record_cash_payment(app, self.cashier)

    def _fresh_drawer(self) -> None:
        """A run that crosses midnight in Damascus: yesterday's drawer is refused (as at a
        real counter), so the cashier counts it and opens today's. No query otherwise."""
        from django.utils import timezone

        from baladiya.payments import services as pay

        today = timezone.localdate()
        if self._drawer_day == today:
            return
        session = pay.current_session(self.cashier)
        if session is not None and session.business_date != today:
            pay.close_session(session, self.cashier, pay.session_totals(session).expected)
            session = None
        if session is None:
            pay.open_session(self.cashier, 0)
        self._drawer_day = today

    def review(self, app: Any) -> Any:
        from baladiya.applications import services as apps

        return apps.start_review(app, self.clerk)

    def approve(self, app: Any) -> Any:
        from baladiya.applications import services as apps

        return apps.approve(app, self.clerk)

    def issue(self, app: Any) -> Any:
        from baladiya.documents.services import issue_document

        return issue_document(app, self.clerk)

    def approved(self) -> Any:
        app = self.submit()
        self.pay(app)
        self.review(app)
        self.approve(app)
        return app


@contextlib.contextmanager
def timed_stages(totals: Counter[str]) -> Iterator[None]:
    """Add the seconds spent in the document pipeline's parts to `totals` (QR code, Typst,
    Ed25519 signing), by wrapping the module functions for the duration."""
    from baladiya.documents import payload, services, signing

    def wrap(module: Any, name: str, key: str) -> Callable[[], None]:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[key] += time.perf_counter() - started

        setattr(module, name, timed)
        return lambda: setattr(module, name, original)

    undo = [
        wrap(payload, "qr_image", "qr"),
        wrap(services, "render_pdf", "typst"),
        wrap(signing, "sign", "sign"),
    ]
    try:
        yield
    finally:
        for restore in undo:
            restore()


def prepare() -> dict[str, Any]:
    desk = Desk.open(int(os.environ.get("BENCH_WORKER", "0")))
    desk.issue(desk.approved())  # warm up: signing key, Typst compiler and its caches
    return {"desk": desk, "n": int(os.environ.get("BENCH_APPS", "200"))}


def run(state: dict[str, Any]) -> dict[str, Any]:
    desk: Desk = state["desk"]
    n: int = state["n"]
    steps: Counter[str] = Counter()

    def step(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        result = fn(*args)
        steps[name] += time.perf_counter() - started
        return result

    started = time.perf_counter()
    for _ in range(n):
        app = step("submit", desk.submit)
        step("cash", desk.pay, app)
        step("review", desk.review, app)
        step("approve", desk.approve, app)
        step("issue", desk.issue, app)
    seconds = time.perf_counter() - started
    return {
        "count": n,
        "ms_per_application": round(1000 * seconds / n, 2),
        "steps_ms": {k: round(1000 * v / n, 2) for k, v in steps.items()},
    }


if __name__ == "__main__":
    worker(prepare, run)
