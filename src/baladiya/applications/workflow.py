"""The application state machine: states, allowed transitions and who may take each.

    submitted ──pay──> paid ──start_review──> in_review ──approve──> approved ──issue──> issued
        │                                        ├──return──> returned ──resubmit──> submitted
        │                                        └──reject──> rejected
        └──cancel──> cancelled     (also from returned; from paid only with a refund)
    issued ──route_to_pickup──> ready_for_pickup ──hand_over──> handed_over
      │                              ^
      └──dispatch──> dispatched ─────┴─return_to_sender   (the post could not deliver)
                         └──deliver──> delivered

Who takes each step (besides the roles below, `accounts.permissions` checks center and agency):
counter applications of counter-approval services are reviewed, issued and dispatched at
their center (clerks); back-office services and every online application (channel `online`,
center C00) are fulfilled by the back office (officers of the service's agency). `deliver`
and `return_to_sender` have no role: only the postal service's verified callback takes them
(`delivery.post.services.handle_postal_event`). The pseudo-role `citizen` (not a staff role)
lets the applicant correct and resubmit, or cancel, their own online application from the
portal (`accounts.permissions.citizen_refusal`; cancel only while no fee was received).
A returned document waits at a center (`delivery.post.services.return_center`): the pickup
center on the application, else the center serving the address's neighbourhood, else the
issuing center, else the first center that accepts pickups.

Side effects live in the service functions that take each transition
(`applications.services`, `payments.services`, `documents.services`, `delivery.services`,
`delivery.post.services`); every one goes through `applications.services.move()` (history,
audit, SMS to the applicant).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.core.errors import IllegalTransition


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    PAID = "paid", _("Paid")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for correction")
    REJECTED = "rejected", _("Rejected")
    ISSUED = "issued", _("Issued")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    HANDED_OVER = "handed_over", _("Handed over")
    DISPATCHED = "dispatched", _("Sent by post")
    DELIVERED = "delivered", _("Delivered by post")
    CANCELLED = "cancelled", _("Cancelled")


@dataclass(frozen=True)
class Transition:
    name: str
    source: frozenset[str]
    target: str
    roles: frozenset[str]
    label: str | Promise


def _t(
    name: str, source: set[Status], target: Status, who: set[str], label: str | Promise
) -> Transition:
    return Transition(name, frozenset(source), target, frozenset(who), label)


S = Status
R = roles
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("pay", {S.SUBMITTED}, S.PAID, {R.CASHIER}, _("Record payment")),
        _t(
            "start_review",
            {S.PAID},
            S.IN_REVIEW,
            {R.CLERK, R.OFFICER, R.SUPERVISOR},
            _("Start review"),
        ),
        _t("approve", {S.IN_REVIEW}, S.APPROVED, {R.CLERK, R.OFFICER, R.SUPERVISOR}, _("Approve")),
        _t(
            "return",
            {S.IN_REVIEW},
            S.RETURNED,
            {R.CLERK, R.OFFICER, R.SUPERVISOR},
            _("Return for correction"),
        ),
        _t("reject", {S.IN_REVIEW}, S.REJECTED, {R.OFFICER, R.SUPERVISOR}, _("Reject")),
        # CITIZEN: the applicant, on their own online application (accounts.permissions).
        _t("resubmit", {S.RETURNED}, S.PAID, {R.CLERK, R.CITIZEN}, _("Resubmit corrected")),
        _t("issue", {S.APPROVED}, S.ISSUED, {R.CLERK, R.OFFICER}, _("Issue document")),
        _t(
            "route_to_pickup",
            {S.ISSUED},
            S.READY_FOR_PICKUP,
            {R.CLERK, R.OFFICER},
            _("Send to pickup"),
        ),
        _t("hand_over", {S.READY_FOR_PICKUP}, S.HANDED_OVER, {R.CLERK}, _("Hand over")),
        _t("dispatch", {S.ISSUED}, S.DISPATCHED, {R.CLERK, R.OFFICER}, _("Send by post")),
        # System events from the postal service: no user may take them.
        _t("deliver", {S.DISPATCHED}, S.DELIVERED, set(), _("Delivered by the post")),
        _t(
            "return_to_sender",
            {S.DISPATCHED},
            S.READY_FOR_PICKUP,
            set(),
            _("Returned by the post"),
        ),
        _t(
            "cancel",
            {S.SUBMITTED, S.RETURNED},
            S.CANCELLED,
            {R.CLERK, R.SUPERVISOR, R.CITIZEN},  # a citizen only while nothing was paid
            _("Cancel"),
        ),
        _t(
            "cancel_with_refund",
            {S.PAID, S.RETURNED, S.REJECTED},
            S.CANCELLED,
            {R.CASHIER, R.SUPERVISOR},
            _("Cancel and refund"),
        ),
    )
}

OPEN_STATES = frozenset({S.SUBMITTED, S.PAID, S.IN_REVIEW, S.APPROVED, S.RETURNED, S.ISSUED})
FINAL_STATES = frozenset({S.HANDED_OVER, S.DELIVERED, S.CANCELLED, S.REJECTED})
# Steps of the fulfilment that the back office takes for online applications.
FULFILMENT_STEPS = frozenset({"start_review", "approve", "return", "reject", "issue", "dispatch"})
SYSTEM_TRANSITIONS = frozenset(t.name for t in TRANSITIONS.values() if not t.roles)


def transition(name: str) -> Transition:
    return TRANSITIONS[name]


def check_transition(name: str, current: str) -> Transition:
    """Return the transition if it may leave `current`, else raise IllegalTransition."""
    t = TRANSITIONS[name]
    if current not in t.source:
        raise IllegalTransition(
            _("This application is “%(status)s”: “%(action)s” is not possible now.")
            % {"status": Status(current).label, "action": t.label}
        )
    return t


def available(current: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if current in t.source]
