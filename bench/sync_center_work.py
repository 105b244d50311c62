"""Center-side load for bench/sync.py: run inside a center node's environment (its SQLite).

`python bench/sync_center_work.py DAYS APPS_PER_DAY PAYMENTS_PER_DAY`: per day, APPS_PER_DAY
counter applications go all the way (submit, cash payment, review, approval, signed document)
and PAYMENTS_PER_DAY - APPS_PER_DAY more are submitted and paid (the rest of the day's
payments). Prints one JSON line: counts, outbox events and their size.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time


def main(days: int, apps_per_day: int, payments_per_day: int) -> None:
    import django

    django.setup()
    from rich.progress import Progress

    from baladiya.accounts.models import Citizen
    from baladiya.applications import services as apps
    from baladiya.documents.services import issue_document
    from baladiya.payments import services as pay
    from baladiya.sync.models import OutboxEvent
    from baladiya.sync.tests.offline_counter import desk

    center, clerk, cashier, service, fields = desk()
    citizens = [
        Citizen.objects.create(
            national_number=f"0499{i:07d}",
            first_name="سامر",
            father_name="خالد",
            last_name="العلي",
            mother_name="هدى",
            birth_date=dt.date(1960 + i % 45, 1 + i % 12, 1 + i % 28),
            phone=f"+96393{i:07d}",
        )
        for i in range(400)
    ]
    before = OutboxEvent.objects.count()
    started = time.perf_counter()
    n_full = n_paid = 0
    total = days * payments_per_day
    with Progress(transient=True) as progress:
        task = progress.add_task("center work", total=total)
        for _day in range(days):
            for i in range(payments_per_day):
                citizen = citizens[(n_full + n_paid) % len(citizens)]
                app = apps.submit_application(
                    clerk,
                    apps.Submission(
                        service=service,
                        applicant=citizen,
                        center=center,
                        fields=fields,
                        pickup_center=center,
                    ),
                )
                pay.record_cash_payment(app, cashier)
                if i < apps_per_day:
                    apps.start_review(app, clerk)
                    apps.approve(app, clerk)
                    issue_document(app, clerk)
                    n_full += 1
                else:
                    n_paid += 1
                progress.advance(task)
    events = OutboxEvent.objects.filter(sent_at=None)
    size = sum(len(json.dumps(d)) for d in events.values_list("data", flat=True).iterator())
    print(
        json.dumps(
            {
                "applications_issued": n_full,
                "applications_paid_only": n_paid,
                "payments": n_full + n_paid,
                "seconds": round(time.perf_counter() - started, 1),
                "events": OutboxEvent.objects.count() - before,
                "unsent_events": events.count(),
                "unsent_json_mb": round(size / 1e6, 1),
            }
        )
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
