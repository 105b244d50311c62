"""Meter services (issue 5): a new meter's subscription, ownership transfer, clearance.

Called by the service rules of the catalog services `water-new-meter`,
`water-meter-transfer` and `water-clearance` (`water.meter_hooks`), inside the transaction
of the workflow step that needs them (decision 0011):

- `create_subscription_from_registration` — on approval of a new meter, after a passed
  field inspection that recorded the meter number: the subscription and its first owner
  period; the citizen is told by SMS.
- `transfer_ownership` — on approval of a transfer: refused while bills are unpaid; the
  seller's owner period closes the day before the effective date, the buyer's opens on it,
  the subscription's subscriber becomes the buyer. The history stays (`OwnerPeriod`).
- `clearance_facts` — what a clearance certificate states, refused while anything is owed.

Subscriptions are the water establishment's register: they are created and changed on the
central node only (center nodes pull them, they never push them).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Neighbourhood
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotFound
from baladiya.core.money import format_pounds, to_latin_digits
from baladiya.core.text import join_list
from baladiya.notifications.services import queue_sms
from baladiya.sync import capture
from baladiya.water.models import Bill, Category, MeterStatus, OwnerPeriod, Subscription

if TYPE_CHECKING:
    from baladiya.applications.models import Application

METER_RE = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{1,28}[A-Z0-9])")
MAX_TRANSFER_AHEAD_DAYS = 90
# The registration form's usage categories (Arabic, as the citizen reads them) and ours.
CATEGORY_BY_LABEL: dict[str, str] = {
    "منزلي": Category.HOUSEHOLD,
    "تجاري": Category.COMMERCIAL,
    "صناعي": Category.INDUSTRIAL,
    "سياحي": Category.TOURIST,
    "حكومي": Category.GOVERNMENT,
}
ADDRESS_MAX = 250  # Subscription.address


# ---------------------------------------------------------------- meters and what is owed


def normalize_meter_number(text: object) -> str:
    """`" hms-004 2117 "` -> `"HMS-0042117"`: no spaces, Latin digits, upper case."""
    return "".join(to_latin_digits(str(text or "")).split()).upper()


def check_meter_number(text: object) -> str:
    """The normalized number, or a clear refusal when it cannot be a meter number."""
    number = normalize_meter_number(text)
    if not METER_RE.fullmatch(number):
        raise DomainError(
            _("“%(number)s” is not a meter number (3 to 30 letters, digits and dashes).")
            % {"number": str(text or "").strip()[:40]},
            code="meter_number",
        )
    return number


def find_subscription(meter_number: object) -> Subscription:
    number = normalize_meter_number(meter_number)
    sub = (
        Subscription.objects.select_related("subscriber", "neighbourhood")
        .filter(meter_number=number)
        .first()
    )
    if sub is None:
        raise NotFound(
            _("No water subscription has meter number %(meter)s.") % {"meter": number or "—"},
            code="meter_unknown",
        )
    return sub


@dataclass(frozen=True)
class Arrears:
    """Unpaid bills of one meter: how much, which cycles."""

    meter: str
    total: int = 0
    cycles: tuple[str, ...] = ()

    @property
    def owed(self) -> bool:
        return self.total > 0

    @property
    def total_display(self) -> str:
        return format_pounds(self.total)


def arrears(subscription: Subscription) -> Arrears:
    unpaid = subscription.bills.filter(state=Bill.State.UNPAID)
    total = unpaid.aggregate(total=Sum("amount"))["total"] or 0
    cycles = tuple(unpaid.order_by("period_end", "cycle").values_list("cycle", flat=True))
    return Arrears(subscription.meter_number, int(total), cycles)


def latest_bill(subscription: Subscription) -> Bill | None:
    """The last billed cycle (paid or not; a cancelled bill does not count)."""
    return (
        subscription.bills.exclude(state=Bill.State.CANCELLED)
        .order_by("-period_end", "-cycle")
        .first()
    )


def pay_now_url(meter_number: str) -> str | None:
    """The counter page where the cashier takes this meter's bills (None while that page does
    not exist: the refusal then names the meter and the cash desk only)."""
    try:
        base = reverse("water:counter")
    except NoReverseMatch:
        return None
    return f"{base}?{urlencode({'q': meter_number})}"


class ArrearsRefusal(Conflict):
    """Refused because bills of the meter are unpaid; carries what the page needs to offer
    paying them now (`arrears`, `pay_url`)."""

    code = "arrears"

    def __init__(self, message: Any, owed: Arrears) -> None:
        super().__init__(message)
        self.arrears = owed
        self.pay_url = pay_now_url(owed.meter)


def refuse_if_owed(subscription: Subscription, purpose: str) -> None:
    """Raise `ArrearsRefusal` (amount and cycles in the message) when bills are unpaid.
    `purpose`: "transfer" or "clearance" (the sentence differs)."""
    owed = arrears(subscription)
    if not owed.owed:
        return
    facts = {
        "meter": owed.meter,
        "amount": owed.total_display,
        "cycles": join_list(owed.cycles),
    }
    if purpose == "transfer":
        message = _(
            "Meter %(meter)s has unpaid water bills: %(amount)s SYP owed (cycles %(cycles)s)."
            " They must be paid at the cash desk before the ownership can be transferred."
        )
    else:
        message = _(
            "Meter %(meter)s has unpaid water bills: %(amount)s SYP owed (cycles %(cycles)s)."
            " No clearance certificate is issued while an amount is owed; pay them at the cash"
            " desk first."
        )
    raise ArrearsRefusal(message % facts, owed)


def _central_only() -> None:
    if capture.is_center_node():
        raise DomainError(
            _("Water subscriptions are created and changed on the central node."),
            code="central_only",
        )


# ---------------------------------------------------------------- new meter


def check_new_meter_number(text: object, application: Application | None = None) -> str:
    """A meter number that may be given to a new subscription: well formed, not already a
    subscription's, not already installed by another open registration's passed visit."""
    from baladiya.applications.models import InspectionVisit
    from baladiya.applications.workflow import OPEN_STATES

    number = check_meter_number(text)
    if Subscription.objects.filter(meter_number=number).exists():
        raise Conflict(
            _("Meter number %(meter)s already belongs to a subscription.") % {"meter": number},
            code="meter_taken",
        )
    others = InspectionVisit.objects.filter(
        meter_number=number,
        result=InspectionVisit.Result.PASSED,
        application__status__in=OPEN_STATES,
    )
    if application is not None:
        others = others.exclude(application=application)
    if others.exists():
        raise Conflict(
            _("Meter number %(meter)s was already recorded for another registration.")
            % {"meter": number},
            code="meter_taken",
        )
    return number


def registration_category(value: object) -> str:
    category = CATEGORY_BY_LABEL.get(str(value or ""))
    if category is None:
        raise DomainError(_("Choose the usage category of the new meter."), code="category")
    return category


def create_subscription_from_registration(app: Application, actor: User | None) -> Subscription:
    """The subscription of an approved new-meter application: meter number from the latest
    (passed) inspection, the applicant as subscriber, address, neighbourhood and category
    from the form, active from today, with its first owner period. Runs in the approval's
    transaction; a meter number taken meanwhile refuses the approval (nothing written).
    Audit `water.subscription_created`; SMS to the applicant with the meter number."""
    from baladiya.applications.inspections import require_passed_inspection

    _central_only()
    visit = require_passed_inspection(app)
    if not visit.meter_number:
        raise DomainError(
            _("The inspection recorded no meter number: record the installed meter first."),
            code="meter_number",
        )
    number = check_new_meter_number(visit.meter_number, app)
    values = app.field_values or {}
    address = " ".join(str(values.get("address") or "").split())[:ADDRESS_MAX]
    hood = Neighbourhood.objects.filter(name_ar=values.get("neighbourhood") or "").first()
    today = timezone.localdate()
    try:
        with transaction.atomic():  # savepoint: the unique meter number decides a race
            sub = Subscription.objects.create(
                meter_number=number,
                subscriber=app.applicant,
                address=address,
                neighbourhood=hood,
                category=registration_category(values.get("category")),
                meter_status=MeterStatus.WORKING,
                active_since=today,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("Meter number %(meter)s already belongs to a subscription.") % {"meter": number},
            code="meter_taken",
        ) from exc
    OwnerPeriod.objects.create(subscription=sub, citizen=app.applicant, valid_from=today)
    audit.record(
        "water.subscription_created",
        actor=actor,
        obj=sub,
        center=app.center.code,
        reference=app.reference,
        meter=number,
        category=sub.category,
        active_since=today.isoformat(),
    )
    with translation.override("ar"):
        text = _(
            "Homs City Council: your water subscription is active. Meter number %(meter)s"
            " (application %(reference)s)."
        ) % {"meter": number, "reference": app.reference}
    queue_sms(app.applicant.phone, str(text), dedupe_key=f"water-activated:{sub.pk}")
    return sub


def registered_subscription(app: Application) -> Subscription | None:
    """The subscription an approved registration created (found by its meter number)."""
    from baladiya.applications.models import InspectionVisit

    number = (
        InspectionVisit.objects.filter(application=app, result=InspectionVisit.Result.PASSED)
        .exclude(meter_number="")
        .order_by("-created_at")
        .values_list("meter_number", flat=True)
        .first()
    )
    if not number:
        return None
    return Subscription.objects.select_related("subscriber").filter(meter_number=number).first()


# ---------------------------------------------------------------- ownership transfer


@dataclass(frozen=True)
class TransferRequest:
    """A transfer as the form gives it: the meter, the seller (current subscriber), the buyer
    and the day the buyer's period starts."""

    meter_number: str
    seller_national_number: str
    buyer: Citizen
    effective: dt.date

    @classmethod
    def from_fields(cls, buyer: Citizen, fields: dict[str, Any]) -> TransferRequest:
        try:
            effective = dt.date.fromisoformat(str(fields.get("effective_date") or ""))
        except ValueError as exc:
            raise DomainError(_("Give the date the transfer takes effect."), code="date") from exc
        return cls(
            normalize_meter_number(fields.get("meter_number")),
            str(fields.get("seller_national_number") or ""),
            buyer,
            effective,
        )


def _open_period(subscription: Subscription) -> OwnerPeriod | None:
    return subscription.owners.filter(valid_to__isnull=True).order_by("-valid_from", "-id").first()


def check_transfer(subscription: Subscription, request: TransferRequest) -> None:
    """Every rule of a transfer, against the subscription as it is now (no write)."""
    seller = subscription.subscriber
    if seller.national_number != request.seller_national_number:
        raise DomainError(
            _("Meter %(meter)s is not in the name of the seller's national number.")
            % {"meter": subscription.meter_number},
            code="seller",
        )
    if request.buyer.pk == seller.pk:
        raise DomainError(
            _("The buyer already holds meter %(meter)s.") % {"meter": subscription.meter_number},
            code="buyer",
        )
    if subscription.meter_status == MeterStatus.REMOVED:
        raise DomainError(
            _("Meter %(meter)s was removed: it cannot be transferred.")
            % {"meter": subscription.meter_number},
            code="meter_removed",
        )
    refuse_if_owed(subscription, "transfer")
    check_effective_date(subscription, request.effective)


def check_effective_date(subscription: Subscription, effective: dt.date) -> None:
    """After the last billed cycle (its bills are the seller's) and after the current owner's
    period began; at most `MAX_TRANSFER_AHEAD_DAYS` days ahead."""
    today = timezone.localdate()
    if effective > today + dt.timedelta(days=MAX_TRANSFER_AHEAD_DAYS):
        raise DomainError(
            _("The transfer may take effect at most %(days)s days from today.")
            % {"days": MAX_TRANSFER_AHEAD_DAYS},
            code="effective_date",
        )
    last = latest_bill(subscription)
    if last is not None and effective <= last.period_end:
        raise DomainError(
            _(
                "The transfer cannot take effect on or before %(end)s: cycle %(cycle)s, billed"
                " up to that day, is the current subscriber's."
            )
            % {"end": last.period_end.isoformat(), "cycle": last.cycle},
            code="effective_date",
        )
    current = _open_period(subscription)
    start = current.valid_from if current is not None else subscription.active_since
    if effective <= start:
        raise DomainError(
            _(
                "The transfer must take effect after %(start)s, when the current subscriber's"
                " period began."
            )
            % {"start": start.isoformat()},
            code="effective_date",
        )


def transfer_ownership(
    subscription: Subscription, request: TransferRequest, actor: User | None, reference: str = ""
) -> OwnerPeriod:
    """Move the subscription to the buyer, keeping the seller's history: the seller's open
    period ends the day before `request.effective`, the buyer's starts on it, and the
    subscription names the buyer from now on (the effective date is what the periods and
    the bills follow). A subscription without any period yet (imported) first gets the
    seller's, from `active_since`. Every rule is checked again under the subscription's lock.
    Audit `water.ownership_transferred`; SMS to the seller."""
    _central_only()
    with transaction.atomic():
        locked = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("subscriber")
            .get(pk=subscription.pk)
        )
        check_transfer(locked, request)
        seller = locked.subscriber
        current = _open_period(locked)
        if current is None:
            current = OwnerPeriod.objects.create(
                subscription=locked, citizen=seller, valid_from=locked.active_since
            )
        current.valid_to = request.effective - dt.timedelta(days=1)
        current.save(update_fields=["valid_to"])
        period = OwnerPeriod.objects.create(
            subscription=locked, citizen=request.buyer, valid_from=request.effective
        )
        locked.subscriber = request.buyer
        locked.save()
        audit.record(
            "water.ownership_transferred",
            actor=actor,
            obj=locked,
            meter=locked.meter_number,
            reference=reference,
            seller=str(seller.pk),
            buyer=str(request.buyer.pk),
            effective=request.effective.isoformat(),
        )
        with translation.override("ar"):
            text = _(
                "Homs City Council: water meter %(meter)s is transferred to a new subscriber"
                " from %(day)s."
            ) % {"meter": locked.meter_number, "day": request.effective.isoformat()}
        queue_sms(seller.phone, str(text), dedupe_key=f"water-transfer:{period.pk}")
    subscription.subscriber = request.buyer
    return period


def owner_history(subscription: Subscription) -> list[OwnerPeriod]:
    return list(subscription.owners.select_related("citizen").order_by("valid_from", "id"))


# ---------------------------------------------------------------- clearance


@dataclass(frozen=True)
class ClearanceFacts:
    """What a clearance certificate states: the meter, its subscriber, the last billed cycle
    (none: no bill yet) and that nothing is owed."""

    subscription: Subscription
    latest_cycle: str = ""
    latest_period_end: dt.date | None = None


def clearance_facts(meter_number: object, national_number: object = None) -> ClearanceFacts:
    """The facts of a clearance for this meter, or a refusal: unknown meter, a national
    number that is not the subscriber's, or unpaid bills (`ArrearsRefusal`, with the amount).
    An overpayment waiting for its refund does not block (nothing is owed by the citizen)."""
    sub = find_subscription(meter_number)
    if national_number and sub.subscriber.national_number != str(national_number):
        raise DomainError(
            _("The national number given is not the subscriber's of meter %(meter)s.")
            % {"meter": sub.meter_number},
            code="subscriber",
        )
    refuse_if_owed(sub, "clearance")
    last = latest_bill(sub)
    return ClearanceFacts(sub, last.cycle if last else "", last.period_end if last else None)
