"""What our centers collected for the water establishment's bills: the daily file sent to
it (issue 5, point 3) and the collection reports per center and day (point 8).

**The collections file** of a business day, CSV, UTF-8, one line per bill paid:

    receipt_number,center,meter_number,cycle,bill_id,amount_piastres,method,paid_at,overpayment
    C03-R26-000123,C03,HMS-0042117,2026-01,EB-99812,6000,cash,2026-03-02T10:14:05+03:00,0
    ...
    TOTAL,<number of lines>,,,,<sum of amounts>,,,<sum of the overpayment lines>

`paid_at` is Damascus time. A bill paid twice (two offline centers, decision 0009 rule 5)
appears twice: both are cash in hand; the later is flagged `overpayment` = 1 (a credit the
council refunds), and counted in the totals, so the file's total is exactly the sum of that
day's water receipts. Lines are in receipt-number order: the same day gives the same bytes,
so re-sending it is harmless (the establishment acknowledges it again with the same receipt);
payments that reach the central node late (a center that synced after the day) make a
corrected file that replaces the earlier one.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.centers.models import Center
from baladiya.centers.permissions import is_directorate
from baladiya.core import audit
from baladiya.core.errors import DomainError
from baladiya.payments.reports import reconciliation_centers
from baladiya.sync import capture
from baladiya.water.exchange import (
    COLLECTIONS_HEADER,
    TOTAL_MARK,
    Establishment,
    get_establishment,
    with_retries,
)
from baladiya.water.models import BillPayment, CollectionExport

# ---------------------------------------------------------------- who


def may_exchange(user: Any) -> bool:
    """Imports and sending files: the directorate (administrators, officers of no agency)
    and officers of the water establishment's own agency (code `water`)."""
    if is_directorate(user):
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    agency = getattr(user, "agency", None)
    return bool(user.has_role(roles.OFFICER) and agency is not None and agency.code == "water")


def may_see_collections(user: Any) -> bool:
    """Whether `user` sees any center's collections (`report_centers` is not empty), from
    the roles alone: the navigation asks on every page."""
    if may_exchange(user):
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.has_role(roles.ADMIN, roles.AUDITOR, roles.SUPERVISOR))


def report_centers(user: Any) -> list[Center]:
    """Centers whose collections `user` may see: every center for those who exchange files
    with the establishment; otherwise those of the daily reconciliation (administrators,
    auditors, supervisors: a center's supervisor that center only); nobody else any."""
    if not may_see_collections(user):
        return []
    if may_exchange(user):
        return list(Center.objects.order_by("code"))
    return reconciliation_centers(user)


# ---------------------------------------------------------------- the file


@dataclass(frozen=True)
class CollectionsFile:
    day: dt.date
    name: str
    content: bytes
    lines: int
    amount: int
    overpayment: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def collections_file(day: dt.date) -> CollectionsFile:
    """The day's collections file (see the module docstring)."""
    rows = (
        BillPayment.objects.filter(receipt__business_date=day)
        .order_by("receipt__number", "bill__cycle", "id")
        .values_list(
            "receipt__number",
            "receipt__center__code",
            "bill__subscription__meter_number",
            "bill__cycle",
            "bill__external_ref",
            "amount",
            "receipt__method",
            "receipt__issued_at",
            "overpayment",
        )
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLLECTIONS_HEADER)
    lines = amount = overpaid = 0
    for number, center, meter, cycle, ref, paid, method, at, over in rows.iterator(2000):
        paid_at = timezone.localtime(at).isoformat(timespec="seconds")
        writer.writerow([number, center, meter, cycle, ref, paid, method, paid_at, int(over)])
        lines += 1
        amount += paid
        overpaid += paid if over else 0
    writer.writerow([TOTAL_MARK, lines, "", "", "", amount, "", "", overpaid])
    return CollectionsFile(
        day=day,
        name=f"collections-{day.isoformat()}.csv",
        content=out.getvalue().encode("utf-8"),
        lines=lines,
        amount=amount,
        overpayment=overpaid,
    )


def send_collections(
    day: dt.date,
    actor: Any = None,
    *,
    establishment: Establishment | None = None,
    attempts: int = 3,
    wait: float = 2.0,
    sleep: Callable[[float], None] | None = None,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> CollectionExport:
    """Send the day's collections file to the establishment (tried again after a time-out
    or an outage) and keep its acknowledgement. A refusal (`EstablishmentRefused`) or a
    link down through every attempt (`EstablishmentUnavailable`) records nothing."""
    if capture.is_center_node():
        raise DomainError(
            _("The collections file is sent by the central node, which has every center's."),
            code="central_only",
        )
    target = establishment or get_establishment()
    made = collections_file(day)
    ack = with_retries(
        lambda: target.send_collections(day, made.name, made.content),
        attempts=attempts,
        wait=wait,
        sleep=sleep,
        on_retry=on_retry,
    )
    with transaction.atomic():
        export = CollectionExport.objects.create(
            day=day,
            file_name=made.name,
            sha256=made.sha256,
            lines=made.lines,
            amount=made.amount,
            overpayment=made.overpayment,
            establishment=target.name,
            acknowledgement=ack.reference,
            actor_name=audit._actor_name(actor),
        )
        audit.record(
            "water.collections_sent",
            actor=actor,
            obj=export,
            day=day.isoformat(),
            sha256=made.sha256,
            lines=made.lines,
            amount=made.amount,
            overpayment=made.overpayment,
            acknowledgement=ack.reference,
            replaces=ack.replaces,
        )
    return export


# ---------------------------------------------------------------- reports


@dataclass(frozen=True)
class CenterTotal:
    center: Center
    receipts: int
    bills: int
    amount: int
    overpayment: int


@dataclass(frozen=True)
class DayTotal:
    day: dt.date
    receipts: int
    amount: int


def _payments(centers: list[Center], first: dt.date, last: dt.date) -> Any:
    return BillPayment.objects.filter(
        receipt__business_date__gte=first,
        receipt__business_date__lte=last,
        receipt__center__in=centers,
    )


def by_center(centers: list[Center], first: dt.date, last: dt.date) -> list[CenterTotal]:
    """Water bills paid per center from `first` to `last` (business days), every center
    listed (a center that collected nothing shows 0: that is information too)."""
    rows = {
        r["receipt__center_id"]: r
        for r in _payments(centers, first, last)
        .values("receipt__center_id")
        .annotate(
            n_receipts=Count("receipt_id", distinct=True),
            n_bills=Count("id"),
            total=Sum("amount"),
            overpaid=Sum("amount", filter=Q(overpayment=True)),
        )
    }
    totals = []
    for center in centers:
        row = rows.get(center.pk, {})
        totals.append(
            CenterTotal(
                center=center,
                receipts=int(row.get("n_receipts") or 0),
                bills=int(row.get("n_bills") or 0),
                amount=int(row.get("total") or 0),
                overpayment=int(row.get("overpaid") or 0),
            )
        )
    return totals


def by_day(centers: list[Center], first: dt.date, last: dt.date) -> list[DayTotal]:
    """Water bills paid per business day from `first` to `last`, every day listed."""
    rows = {
        r["receipt__business_date"]: r
        for r in _payments(centers, first, last)
        .values("receipt__business_date")
        .annotate(n_receipts=Count("receipt_id", distinct=True), total=Sum("amount"))
    }
    days = []
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        row = rows.get(day, {})
        days.append(DayTotal(day, int(row.get("n_receipts") or 0), int(row.get("total") or 0)))
    return days


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)
