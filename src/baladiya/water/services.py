"""Every write of the water app (issue 5): bills from readings, looking bills up, paying them
at the counter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotFound
from baladiya.core.money import format_pounds
from baladiya.core.text import join_list
from baladiya.notifications.services import queue_sms
from baladiya.payments.models import Receipt
from baladiya.payments.services import take_cash
from baladiya.water.models import Bill, BillPayment, Subscription
from baladiya.water.tariffs import charge, tariff_for

DUE_DAYS = 30


def record_bill(
    subscription: Subscription,
    cycle: str,
    period_end: dt.date,
    previous_reading: int,
    current_reading: int,
    *,
    estimated: bool = False,
    external_ref: str = "",
    actor: object = None,
) -> tuple[Bill, bool]:
    """The bill of one cycle from its two readings, priced with the tariff in force at the
    cycle's end. Recording the same bill again changes nothing (`(bill, False)`); the same
    cycle with other readings is refused (a correction is the establishment's, not ours)."""
    if current_reading < previous_reading:
        raise DomainError(
            _("The current reading (%(cur)s) is below the previous one (%(prev)s).")
            % {"cur": current_reading, "prev": previous_reading},
            code="reading_backwards",
        )
    existing = Bill.objects.filter(subscription=subscription, cycle=cycle).first()
    if existing is not None:
        same = (existing.previous_reading, existing.current_reading, existing.estimated) == (
            previous_reading,
            current_reading,
            estimated,
        )
        if same:
            return existing, False
        raise Conflict(
            _("Cycle %(cycle)s of meter %(meter)s was already billed with other readings.")
            % {"cycle": cycle, "meter": subscription.meter_number},
            code="bill_differs",
        )
    consumption = current_reading - previous_reading
    priced = charge(tariff_for(subscription.category, period_end), consumption)
    with transaction.atomic():
        bill = Bill.objects.create(
            subscription=subscription,
            cycle=cycle,
            period_end=period_end,
            previous_reading=previous_reading,
            current_reading=current_reading,
            estimated=estimated,
            consumption=consumption,
            amount=priced.total,
            due_date=period_end + dt.timedelta(days=DUE_DAYS),
            external_ref=external_ref,
        )
        audit.record(
            "water.bill_recorded",
            actor=actor,
            obj=bill,
            meter=subscription.meter_number,
            cycle=cycle,
            consumption=consumption,
            amount=bill.amount,
            estimated=estimated,
        )
    return bill, True


def find_subscriptions(query: str) -> QuerySet[Subscription]:
    """By meter number or by the subscriber's national number (exact, digits only)."""
    text = "".join(str(query or "").split())
    if not text:
        return Subscription.objects.none()
    # The citizen first, then an OR of two indexed columns of one table: an OR across the
    # join to citizens makes both engines scan every subscription (60 ms at 100,000 meters).
    holders = list(Citizen.objects.filter(national_number=text).values_list("pk", flat=True))
    return (
        Subscription.objects.filter(Q(meter_number=text) | Q(subscriber_id__in=holders))
        .select_related("subscriber", "neighbourhood")
        .order_by("meter_number")
    )


def unpaid_bills(subscription: Subscription) -> QuerySet[Bill]:
    """Oldest first: a citizen pays the oldest debt first."""
    return subscription.bills.filter(state=Bill.State.UNPAID).order_by("period_end", "cycle")


def bills_description(bills: Sequence[Bill], meter_number: str, total: int) -> str:
    """What a receipt for water bills says it was for."""
    return str(
        _("Water bills %(cycles)s, meter %(meter)s (%(amount)s)")
        % {
            "cycles": join_list(b.cycle for b in bills),
            "meter": meter_number,
            "amount": format_pounds(total),
        }
    )


def apply_receipt_to_bills(bills: Sequence[Bill], receipt: Receipt, *, actor: Any) -> None:
    """The receipt pays these locked, unpaid bills (inside the caller's transaction): one
    payment row each, each bill `paid`, audited once."""
    for bill in bills:
        BillPayment.objects.create(bill=bill, receipt=receipt, amount=bill.amount)
        bill.state = Bill.State.PAID
        bill.save(update_fields=["state"])
    audit.record(
        "water.bills_paid",
        actor=actor,
        obj=receipt,
        center=receipt.center.code,
        meter=bills[0].subscription.meter_number if bills else "",
        cycles=[b.cycle for b in bills],
        amount=sum(b.amount for b in bills),
        receipt=receipt.number,
        method=receipt.method,
    )
    _tell_subscriber(bills, receipt)


def _tell_subscriber(bills: Sequence[Bill], receipt: Receipt) -> None:
    """The subscriber's mobile hears of every payment on their meter (a relative may have
    paid it, or a clerk may have taken the wrong meter)."""
    if not bills:
        return
    phone = bills[0].subscription.subscriber.phone
    if not phone:
        return
    with translation.override("ar"):
        text = _(
            "Homs City Council: water bills %(cycles)s of meter %(meter)s paid, %(amount)s SYP,"
            " receipt %(receipt)s."
        ) % {
            "cycles": join_list(b.cycle for b in bills),
            "meter": bills[0].subscription.meter_number,
            "amount": format_pounds(receipt.amount),
            "receipt": receipt.number,
        }
    queue_sms(phone, str(text), dedupe_key=f"water-paid:{receipt.pk}")


def pay_bills(bills: Sequence[Bill], cashier: User, center: Center) -> Receipt:
    """Cash for one or several unpaid bills of one subscription: one receipt, each bill
    `paid`. A bill already paid (a double click, a second cashier) refuses the whole payment
    with its cycle named; nothing is written and the receipt number is given back."""
    if not bills:
        raise DomainError(_("Choose at least one bill to pay."), code="no_bill")
    subscriptions = {b.subscription_id for b in bills}
    if len(subscriptions) != 1:
        raise DomainError(_("Pay the bills of one meter at a time."), code="several_meters")
    with transaction.atomic():
        locked = list(
            Bill.objects.select_for_update()
            .filter(pk__in=[b.pk for b in bills])
            .select_related("subscription__subscriber")
            .order_by("period_end")
        )
        if len(locked) != len({b.pk for b in bills}):
            raise NotFound(_("A chosen bill does not exist."))
        paid = [b.cycle for b in locked if b.state != Bill.State.UNPAID]
        if paid:
            raise Conflict(
                _("Already paid or cancelled: %(cycles)s. Nothing was charged.")
                % {"cycles": join_list(paid)},
                code="bill_paid",
            )
        meter = locked[0].subscription
        total = sum(b.amount for b in locked)
        receipt = take_cash(
            cashier,
            center,
            total,
            meter.subscriber.full_name,
            bills_description(locked, meter.meter_number, total),
        )
        apply_receipt_to_bills(locked, receipt, actor=cashier)
    return receipt
