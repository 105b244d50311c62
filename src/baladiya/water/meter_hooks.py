"""The water services' rules in the generic workflow (`applications.hooks`), registered by
`WaterConfig.ready()`. What each service adds (decision 0011):

- `water-new-meter`: a field inspection must pass (recording the installed meter's number,
  unique); approval creates the subscription (`meters.create_subscription_from_registration`);
  the document (subscription notice) prints the meter number and the start date.
- `water-meter-transfer`: refused at submission and again at approval while the meter has
  unpaid bills (amount shown, a link to pay them); approval transfers the ownership
  (`meters.transfer_ownership`).
- `water-clearance`: refused at submission, approval and issuance while anything is owed for
  the meter; the certificate states the subscriber, the last billed cycle and that nothing
  is owed up to it.

Each hook runs inside the transaction of its step; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import hooks, inspections
from baladiya.applications.hooks import Panel, ServiceHooks
from baladiya.applications.models import Application, InspectionVisit
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.core.errors import DomainError
from baladiya.sync import capture
from baladiya.water import meters
from baladiya.water.models import Category, OwnerPeriod, Subscription

NEW_METER = "water-new-meter"
TRANSFER = "water-meter-transfer"
CLEARANCE = "water-clearance"
# Once approved, the subscription exists (new meter) or the transfer was made.
AFTER_APPROVAL = frozenset(
    {
        Status.APPROVED,
        Status.ISSUED,
        Status.READY_FOR_PICKUP,
        Status.HANDED_OVER,
        Status.DISPATCHED,
        Status.DELIVERED,
    }
)
PANELS = "water/meters/"


def _row(label_ar: str, label_en: str, value: object, *, ltr: bool = False) -> dict[str, Any]:
    """One more line of the document's table (documents print label_ar and value)."""
    return {
        "name": label_en.lower().replace(" ", "_"),
        "label_ar": label_ar,
        "label_en": label_en,
        "value": str(value),
        "ltr": ltr,
    }


def _fields(app: Application) -> dict[str, Any]:
    return dict(app.field_values or {})


# ---------------------------------------------------------------- new meter


def _clean_registration(
    service: Service, applicant: Citizen, fields: dict[str, Any]
) -> dict[str, Any]:
    meters.registration_category(fields.get("category"))
    address = " ".join(str(fields.get("address") or "").split())
    if len(address) > meters.ADDRESS_MAX:
        raise DomainError(
            _("The address is too long (%(max)s characters at most).")
            % {"max": meters.ADDRESS_MAX},
            code="address",
        )
    return fields


def _with_meter_number(fields: dict[str, Any]) -> dict[str, Any]:
    """The form's meter number as stored and printed: `hms-004 2117` -> `HMS-0042117`."""
    return {**fields, "meter_number": meters.normalize_meter_number(fields.get("meter_number"))}


def _check_new_meter(app: Application, result: str, meter_number: str) -> str:
    if result != InspectionVisit.Result.PASSED:
        return ""  # a failed visit installs nothing
    if not str(meter_number or "").strip():
        raise DomainError(
            _("A passed inspection records the number of the meter installed."),
            code="meter_number",
        )
    return meters.check_new_meter_number(meter_number, app)


def _before_registration_approved(app: Application) -> None:
    """Checked before the status changes; `create_subscription_from_registration` (after it)
    checks again under the same transaction, where the unique number decides a race."""
    meters._central_only()
    visit = inspections.require_passed_inspection(app)
    meters.check_new_meter_number(visit.meter_number, app)
    meters.registration_category(_fields(app).get("category"))


def _create_subscription(app: Application, actor: User | None) -> None:
    meters.create_subscription_from_registration(app, actor)


def _issued_centrally(app: Application) -> None:
    """The notice prints what only the central node holds (the visit, the owner periods):
    the water establishment's officer issues it there, and the center gets the document
    with the next sync, as for any back-office service."""
    if capture.is_center_node():
        raise DomainError(
            _("This notice is issued by the water establishment on the central node."),
            code="central_only",
        )


def _registration_issue_check(app: Application) -> None:
    _issued_centrally(app)
    if meters.registered_subscription(app) is None:
        raise DomainError(
            _("The subscription of this registration does not exist: nothing to issue."),
            code="no_subscription",
        )


def _registration_rows(app: Application) -> list[dict[str, Any]]:
    sub = meters.registered_subscription(app)
    if sub is None:
        return []
    return [
        _row("رقم العداد", "Meter number", sub.meter_number, ltr=True),
        _row("تاريخ بدء الاشتراك", "Active since", sub.active_since.isoformat(), ltr=True),
    ]


def _registration_panel(user: User, app: Application) -> Panel:
    visits = inspections.visits(app)
    latest = visits[-1] if visits else None
    # Visits are kept on the central node (inspections: not synced), so a center node
    # shows no forms for them.
    central = not capture.is_center_node()
    manage = central and app.status == Status.IN_REVIEW and inspections.may_manage(user, app)
    pending = (
        latest if latest is not None and latest.result == InspectionVisit.Result.PENDING else None
    )
    today = timezone.localdate()
    return Panel(
        PANELS + "_registration.html",
        {
            "visits": visits,
            "may_schedule": manage and (latest is None or latest.result == "failed"),
            "pending": pending,
            "may_record": manage and pending is not None and pending.scheduled_for <= today,
            "today": today,
            "last_day": today + dt.timedelta(days=inspections.MAX_DAYS_AHEAD),
            "inspectors": _inspectors(app) if manage else [],
            "central": central,
            "subscription": meters.registered_subscription(app)
            if app.status in AFTER_APPROVAL
            else None,
        },
    )


def _inspectors(app: Application) -> list[User]:
    """Staff who may be sent on the visit: the service agency's officers."""
    return list(
        User.objects.filter(
            is_active=True, groups__name=roles.OFFICER, agency_id=app.service.agency_id
        )
        .distinct()
        .order_by("full_name", "username")[:50]
    )


# ---------------------------------------------------------------- transfer


def _transfer_request(applicant: Citizen, fields: dict[str, Any]) -> tuple[Subscription, Any]:
    request = meters.TransferRequest.from_fields(applicant, fields)
    return meters.find_subscription(request.meter_number), request


def _clean_transfer(service: Service, applicant: Citizen, fields: dict[str, Any]) -> dict[str, Any]:
    fields = _with_meter_number(fields)
    sub, request = _transfer_request(applicant, fields)
    meters.check_transfer(sub, request)
    return fields


def _before_transfer_approved(app: Application) -> None:
    meters._central_only()
    sub, request = _transfer_request(app.applicant, _fields(app))
    meters.check_transfer(sub, request)


def _transfer(app: Application, actor: User | None) -> None:
    sub, request = _transfer_request(app.applicant, _fields(app))
    meters.transfer_ownership(sub, request, actor, app.reference)


def _previous_owner(app: Application) -> OwnerPeriod | None:
    fields = _fields(app)
    try:
        effective = dt.date.fromisoformat(str(fields.get("effective_date") or ""))
    except ValueError:
        return None
    return (
        OwnerPeriod.objects.select_related("citizen")
        .filter(
            subscription__meter_number=meters.normalize_meter_number(fields.get("meter_number")),
            valid_to=effective - dt.timedelta(days=1),
        )
        .first()
    )


def _transfer_rows(app: Application) -> list[dict[str, Any]]:
    previous = _previous_owner(app)
    if previous is None:
        return []
    return [_row("المشترك السابق", "Previous subscriber", previous.citizen.full_name)]


def _may_use_counter(user: User) -> bool:
    """Whether the pay-now link leads somewhere for `user` (the counter page's roles)."""
    from baladiya.water.views import COUNTER_ROLES

    return user.has_role(*COUNTER_ROLES)


def _meter_panel(user: User, app: Application, template: str) -> Panel:
    """The meter named in the form: subscriber, what is owed (with the pay-now link for
    those who work the counter), the owners' history, the last bill."""
    number = meters.normalize_meter_number(_fields(app).get("meter_number"))
    sub = Subscription.objects.select_related("subscriber").filter(meter_number=number).first()
    owed = meters.arrears(sub) if sub is not None else None
    return Panel(
        PANELS + template,
        {
            "meter": number,
            "subscription": sub,
            "arrears": owed,
            "pay_url": meters.pay_now_url(number)
            if owed is not None and owed.owed and _may_use_counter(user)
            else None,
            "owners": meters.owner_history(sub) if sub is not None else [],
            "latest_bill": meters.latest_bill(sub) if sub is not None else None,
            "done": app.status in AFTER_APPROVAL,
            "category": Category(sub.category).label if sub is not None else "",
        },
    )


def _transfer_panel(user: User, app: Application) -> Panel:
    return _meter_panel(user, app, "_transfer.html")


# ---------------------------------------------------------------- clearance


def _clean_clearance(
    service: Service, applicant: Citizen, fields: dict[str, Any]
) -> dict[str, Any]:
    fields = _with_meter_number(fields)
    meters.clearance_facts(fields["meter_number"], fields.get("national_number"))
    return fields


def _check_clearance(app: Application) -> None:
    fields = _fields(app)
    meters.clearance_facts(fields.get("meter_number"), fields.get("national_number"))


def _clearance_rows(app: Application) -> list[dict[str, Any]]:
    fields = _fields(app)
    try:
        facts = meters.clearance_facts(fields.get("meter_number"), fields.get("national_number"))
    except DomainError:
        return []  # refused again, under the lock, when the document is issued
    sub = facts.subscription
    rows = [
        _row("المشترك", "Subscriber", sub.subscriber.full_name),
        _row(
            "الرقم الوطني للمشترك",
            "Subscriber's national number",
            sub.subscriber.national_number,
            ltr=True,
        ),
        _row("عنوان الاشتراك", "Address", sub.address),
    ]
    if facts.latest_cycle:
        rows += [
            _row("آخر دورة فوترة", "Latest billing cycle", facts.latest_cycle, ltr=True),
            _row(
                "الذمة المالية",
                "Amount owed",
                "لا يترتب على هذا العداد أي مبلغ مستحق حتى آخر دورة فوترة المذكورة أعلاه",
            ),
        ]
    else:
        rows.append(
            _row(
                "الذمة المالية",
                "Amount owed",
                "لم تصدر أي فاتورة لهذا العداد، ولا يترتب عليه أي مبلغ مستحق",
            )
        )
    return rows


def _clearance_panel(user: User, app: Application) -> Panel:
    return _meter_panel(user, app, "_clearance.html")


# ---------------------------------------------------------------- registration


HOOKS: dict[str, ServiceHooks] = {
    NEW_METER: ServiceHooks(
        needs_inspection=True,
        clean_submission=_clean_registration,
        check_inspection_result=_check_new_meter,
        check_before_approve=_before_registration_approved,
        on_approved=_create_subscription,
        check_before_issue=_registration_issue_check,
        document_rows=_registration_rows,
        detail_panel=_registration_panel,
    ),
    TRANSFER: ServiceHooks(
        clean_submission=_clean_transfer,
        check_before_approve=_before_transfer_approved,
        on_approved=_transfer,
        check_before_issue=_issued_centrally,
        document_rows=_transfer_rows,
        detail_panel=_transfer_panel,
    ),
    CLEARANCE: ServiceHooks(
        clean_submission=_clean_clearance,
        check_before_approve=_check_clearance,
        check_before_issue=_check_clearance,
        document_rows=_clearance_rows,
        detail_panel=_clearance_panel,
    ),
}


def register_all() -> None:
    for code, service_hooks in HOOKS.items():
        hooks.register(code, service_hooks)
