"""Benchmark: documents issued per second, and full counter applications per second.

Documents: render (Typst) + sign (Ed25519) + store, for approved applications.
Counter: create -> cash payment (receipt) -> review -> approve -> issue, as a clerk and a
cashier of one center would, through the same service functions the UI calls.
Prints one JSON line. Run through `bench/run.py`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, setup_django


def main() -> None:
    engine = os.environ.get("BENCH_ENGINE", "sqlite")
    n_docs = int(os.environ.get("BENCH_DOCS", "400"))
    n_apps = int(os.environ.get("BENCH_APPS", "400"))
    setup_django(fresh_database(engine))

    from rich.progress import Progress

    from baladiya.accounts import roles
    from baladiya.accounts.models import Citizen, User
    from baladiya.applications import services as apps
    from baladiya.catalog.models import Service
    from baladiya.centers.models import Center
    from baladiya.documents.services import issue_document
    from baladiya.payments import services as pay

    center = Center.objects.get(code="C03")
    clerk = User.objects.filter(center=center, groups__name=roles.CLERK).first()
    cashier = User.objects.filter(center=center, groups__name=roles.CASHIER).first()
    service = Service.objects.filter(approval=Service.Approval.COUNTER, fields__isnull=True).first()
    service = service or Service.objects.filter(approval=Service.Approval.COUNTER).first()
    assert clerk and cashier and service
    citizen = Citizen.objects.create(
        national_number="04019999999", first_name="سامي", father_name="خالد", last_name="الحمصي"
    )
    fields = {f.name: _value(f) for f in service.fields.all()}
    pay.open_session(cashier, 0)

    def submit() -> object:
        sub = apps.Submission(
            service=service, applicant=citizen, center=center, fields=fields,
            delivery_mode="pickup", pickup_center=center,
        )  # fmt: skip
        return apps.submit_application(clerk, sub)

    def approved() -> object:
        app = submit()
        pay.record_cash_payment(app, cashier)
        apps.start_review(app, clerk)
        apps.approve(app, clerk)
        return app

    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("preparing approved applications", total=n_docs)
        ready = []
        for _ in range(n_docs):
            ready.append(approved())
            progress.advance(task)
        issue_document(ready.pop(), clerk)  # warm the Typst compiler (fonts load once)
        started = time.perf_counter()
        for app in ready:
            issue_document(app, clerk)
        doc_seconds = time.perf_counter() - started
        docs_per_s = len(ready) / doc_seconds

        started = time.perf_counter()
        for _ in range(n_apps):
            issue_document(approved(), clerk)
        app_seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "engine": engine,
                "documents": len(ready),
                "documents_per_s": round(docs_per_s, 1),
                "ms_per_document": round(1000 * doc_seconds / len(ready), 2),
                "applications": n_apps,
                "applications_per_s": round(n_apps / app_seconds, 1),
                "ms_per_application": round(1000 * app_seconds / n_apps, 2),
            }
        )
    )


def _value(field: object) -> str:
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
        return str(getattr(field, "choices", [""])[0])
    return "جهة عامة"


if __name__ == "__main__":
    main()
