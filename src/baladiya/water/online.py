"""Water bills paid online by the subscriber (issue 5 point 4), through the payment gateway
(`payments.gateways`, purpose `water_bills`).

The intent names the bills and their total when it is opened. When the gateway's money
arrives the bills are paid if they still are owed exactly as then; if one was paid
meanwhile (at a counter, in another tab) the money is receipted and refunded whole, never
split silently: the citizen pays again for what is still owed, with a fresh total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import citizen_of
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.money import format_pounds
from baladiya.core.text import join_list
from baladiya.payments.gateways import purposes
from baladiya.payments.gateways.services import PaymentStart, start_purpose_payment
from baladiya.payments.models import PaymentIntent, Receipt
from baladiya.water.models import Bill
from baladiya.water.services import apply_receipt_to_bills, bills_description

PURPOSE = "water_bills"


def start_bill_payment(
    bills: Sequence[Bill],
    user: Any,
    *,
    return_url: str,
    idempotency_key: str | None = None,
    gateway: str | None = None,
) -> PaymentStart:
    """Open an online payment of some of the citizen's own unpaid bills (one meter)."""
    citizen = citizen_of(user)
    if citizen is None:
        raise NotAllowed(gettext_lazy("Sign in with your citizen account to pay online."))
    if not bills:
        raise DomainError(gettext_lazy("Choose at least one bill to pay."), code="no_bill")
    meters = {b.subscription_id for b in bills}
    if len(meters) != 1:
        raise DomainError(gettext_lazy("Pay the bills of one meter at a time."))
    meter = bills[0].subscription
    if meter.subscriber_id != citizen.pk:
        raise NotAllowed(gettext_lazy("This meter is not in your name."))
    owed = [b for b in bills if b.state == Bill.State.UNPAID]
    if len(owed) != len(bills):
        raise DomainError(
            gettext_lazy("A chosen bill is already paid. Nothing was charged."), code="bill_paid"
        )
    ordered = sorted(owed, key=lambda b: (b.period_end, b.cycle))
    total = sum(b.amount for b in ordered)
    return start_purpose_payment(
        PURPOSE,
        {"bills": [str(b.pk) for b in ordered], "meter": meter.meter_number},
        total,
        user,
        payer_name=citizen.full_name,
        payer_phone=citizen.phone or "",
        description=bills_description(ordered, meter.meter_number, total),
        return_url=return_url,
        idempotency_key=idempotency_key,
        gateway=gateway,
    )


class WaterBillsPurpose:
    name = PURPOSE

    def _bills(self, intent: PaymentIntent) -> list[Bill]:
        ids = [str(pk) for pk in intent.subject.get("bills", [])]
        return list(
            Bill.objects.select_for_update().filter(pk__in=ids).order_by("period_end", "cycle")
        )

    def unapplied_reason(self, intent: PaymentIntent, amount: int) -> str:
        bills = self._bills(intent)
        if len(bills) != len(intent.subject.get("bills", [])):
            return _("Automatic refund: a bill of this payment no longer exists.")
        if amount != intent.amount or amount != sum(b.amount for b in bills):
            return _("Automatic refund: the amount paid (%(paid)s) is not what was owed.") % {
                "paid": format_pounds(amount)
            }
        paid = [b.cycle for b in bills if b.state != Bill.State.UNPAID]
        if paid:
            return _("Automatic refund: bills %(cycles)s were paid meanwhile.") % {
                "cycles": join_list(paid)
            }
        return ""

    def apply(self, intent: PaymentIntent, receipt: Receipt) -> None:
        apply_receipt_to_bills(self._bills(intent), receipt, actor=intent.started_by)

    def next_url(self, intent: PaymentIntent, user: Any) -> str:
        if citizen_of(user) is not None:
            return reverse("water:my_bills")
        return reverse("water:counter") + "?q=" + str(intent.subject.get("meter", ""))

    def may_view(self, user: Any, intent: PaymentIntent) -> bool:
        return isinstance(user, User) and user.has_role(roles.FINANCE, roles.ADMIN, roles.AUDITOR)


def register() -> None:
    purposes.register(WaterBillsPurpose())
