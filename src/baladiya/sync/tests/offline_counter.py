"""Run on a center node (own process, own SQLite): serve citizens at the counter while the
central node is unreachable. Prints one JSON line: what was acknowledged to citizens.

Arguments: how many citizens (default 3), and the first citizen's index (default 0): a later
call with a higher start registers new citizens (national numbers and phones stay unique)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any


def desk() -> tuple[Any, Any, Any, Any, dict[str, str]]:
    """C03's counter on this node: center, clerk, cashier (drawer open), the first counter
    service and valid values for its form."""
    from django.utils import timezone

    from baladiya.accounts import roles
    from baladiya.accounts.models import User
    from baladiya.catalog.models import Service
    from baladiya.centers.models import Center
    from baladiya.core.crashtest import field_value
    from baladiya.payments import services as pay

    center = Center.objects.get(code="C03")
    clerk = User.objects.filter(center=center, groups__name=roles.CLERK).first()
    cashier = User.objects.filter(center=center, groups__name=roles.CASHIER).first()
    service = Service.objects.filter(approval=Service.Approval.COUNTER).order_by("code").first()
    assert clerk and cashier and service
    drawer = pay.current_session(cashier)
    if drawer is not None and drawer.business_date != timezone.localdate():
        # The node's clock crossed midnight (a clock off by hours does): count yesterday's
        # drawer and open today's, as the cashier would.
        pay.close_session(drawer, cashier, pay.session_totals(drawer).expected)
        drawer = None
    if drawer is None:
        pay.open_session(cashier, 0)
    return center, clerk, cashier, service, {f.name: field_value(f) for f in service.fields.all()}


def main(count: int, start: int = 0) -> None:
    import django

    django.setup()
    from baladiya.accounts.models import Citizen
    from baladiya.applications import services as apps
    from baladiya.documents.services import issue_document
    from baladiya.payments import services as pay

    center, clerk, cashier, service, fields = desk()
    done = []
    for i in range(start, start + count):
        citizen = Citizen.objects.create(
            national_number=f"0403{i:07d}",
            first_name="سامر",
            father_name="خالد",
            last_name="العلي",
            mother_name="هدى",
            birth_date=dt.date(1985, 3, 1 + i % 28),
            phone=f"+96394400{i:04d}",
        )
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
        receipt = pay.record_cash_payment(app, cashier)
        apps.start_review(app, clerk)
        apps.approve(app, clerk)
        doc = issue_document(app, clerk)
        done.append({"reference": app.reference, "receipt": receipt.number, "document": doc.number})
    print(json.dumps(done))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 3,
        int(sys.argv[2]) if len(sys.argv) > 2 else 0,
    )
