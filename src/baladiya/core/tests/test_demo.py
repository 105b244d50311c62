"""The demo generator: a lived-in system built through the real service functions, counters and
the electronic center alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db.models import F
from django.utils import timezone, translation

from baladiya.accounts.models import User
from baladiya.accounts.permissions import citizen_of
from baladiya.applications.models import Application, ApplicationEvent, Channel
from baladiya.applications.services import WEEKEND, add_working_days
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.audit_labels import action_label
from baladiya.core.models import AuditEvent
from baladiya.core.seed.demo import CLOSES, HISTORY_DAYS, OPENS, before_history, generate_demo
from baladiya.core.seed.homs import DEMO_CITIZENS, seed_homs
from baladiya.delivery.models import Shipment
from baladiya.documents.models import IssuedDocument
from baladiya.notifications.models import OutboxMessage, SandboxSms
from baladiya.payments.models import CashierSession, IntentStatus, PaymentIntent, Receipt, Refund
from baladiya.payments.reports import money_balances

pytestmark = pytest.mark.django_db
COUNT = 100  # 20 online: every online plan at least once


def last_working_day_at(time: dt.time) -> dt.datetime:
    """The latest working day's `time` (Homs) that has passed."""
    moment = timezone.make_aware(dt.datetime.combine(timezone.localdate(), time))
    while moment.weekday() in WEEKEND or moment > timezone.now():
        moment -= dt.timedelta(days=1)
    return moment


# Made at 12:30 on a working day (a day in progress), whenever the tests run: the demo is
# made at the moment `baladiya run` first runs, and what today holds depends on the hour.
MADE_AT = dt.time(12, 30)


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One demo for the module (it is the slow part), rolled back at the end; the tests
    look at it at the moment it was made (the clock keeps running from there)."""
    from django.db import transaction

    with django_db_blocker.unblock(), time_machine.travel(last_working_day_at(MADE_AT)):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with before_history():  # as `baladiya run` seeds a fresh demo node
                seed_homs(demo=True)
            yield generate_demo(count=COUNT, seed=7)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _statuses(qs: Any) -> set[str]:
    return set(qs.values_list("status", flat=True))


def _business_days() -> set[dt.date]:
    days: set[dt.date] = set()
    for model in (Receipt, Refund, CashierSession):
        days |= set(model.objects.values_list("business_date", flat=True))
    return days


def test_demo_is_lived_in_and_consistent(demo: dict[str, int]) -> None:
    tally = demo
    # Applications in every state, at every counter center and at the electronic center.
    assert _statuses(Application.objects) == set(Status.values)
    centers = set(Application.objects.values_list("center__code", flat=True))
    assert centers == set(Center.objects.values_list("code", flat=True))
    statuses = {k: v for k, v in tally.items() if k in Status.values}
    assert sum(statuses.values()) == Application.objects.count() == COUNT
    assert tally["online"] == Application.objects.filter(channel=Channel.ONLINE).count() == 20

    # Some citizens collect at another center than the one that took the application.
    elsewhere = Application.objects.filter(pickup_center__isnull=False).exclude(
        pickup_center=F("center")
    )
    assert elsewhere.filter(status=Status.HANDED_OVER, channel=Channel.COUNTER).exists()

    # Open and closed drawers; valid and revoked documents.
    assert set(CashierSession.objects.values_list("state", flat=True)) == {"open", "closed"}
    documents = set(IssuedDocument.objects.values_list("state", flat=True))
    assert documents == {IssuedDocument.State.VALID, IssuedDocument.State.REVOKED}

    # Some open applications are past their SLA, so the overdue list shows something.
    today = timezone.localdate()
    overdue = Application.objects.filter(
        sla_due__lt=today, status__in=[Status.PAID, Status.IN_REVIEW, Status.RETURNED]
    )
    assert overdue.exists()


def test_the_demo_has_weeks_of_history_worked_in_office_hours(demo: dict[str, int]) -> None:
    """What a supervisor or an auditor sees first: work spread over the past three weeks,
    at the counters' hours on working days, and every record dated as it would have been."""
    today = timezone.localdate()
    local = timezone.localtime
    submitted = {local(a.created_at).date() for a in Application.objects.all()}
    assert today in submitted and len(submitted) >= HISTORY_DAYS * 2 // 3
    assert min(submitted) >= today - dt.timedelta(days=HISTORY_DAYS * 7 // 5 + 7)
    staff_first = min(User.objects.values_list("date_joined", flat=True))
    assert staff_first < min(Application.objects.values_list("created_at", flat=True))
    # Staff work in the counters' hours, today's so far included; only what citizens did
    # online today happened at the moment the demo was made.
    at_counters = ApplicationEvent.objects.exclude(
        application__channel=Channel.ONLINE, application__created_at__date=today
    )
    for event in at_counters:
        at = local(event.created_at)
        assert at.weekday() not in WEEKEND and OPENS <= at.time() < CLOSES, (event, at)
        assert at <= timezone.now(), (event, at)
    made_today = Application.objects.filter(channel=Channel.COUNTER, created_at__date=today)
    assert made_today.count() >= 3 and len(_statuses(made_today)) >= 2

    # Every past working day, every counter's drawer was opened and counted once.
    counters = Center.objects.exclude(kind=Center.Kind.ELECTRONIC)
    past_days = {d for d in _business_days() if d < today}
    assert len(past_days) == HISTORY_DAYS
    for center in counters:
        sessions = CashierSession.objects.filter(center=center)
        closed = sorted(sessions.filter(state="closed").values_list("business_date", flat=True))
        assert closed == sorted(past_days), center.code
        assert sessions.get(state="open").business_date == today
    assert CashierSession.objects.exclude(over_short=0).filter(state="closed").exists()

    # The finance officer imported the gateway's settlement file of every day but the last
    # working day's (left for the demo to import), and each reconciles with our receipts.
    from baladiya.payments.gateways.settlement import settlement_report

    last_working_day = max(past_days)
    for day in sorted(past_days):
        report = settlement_report("sandbox", day)
        if day == last_working_day:
            assert report.settlement is None
        else:
            assert report.reconciled, (day, report.mismatches)
            assert report.gateway_net == report.our_net
    paid_online = [d for d in past_days if settlement_report("sandbox", d).our_payments]
    assert len(paid_online) >= 3

    # A receipt falls on its drawer's day, within its opening hours, and receipt numbers
    # run in time order at each center.
    for receipt in Receipt.objects.filter(method="cash").select_related("session"):
        session = receipt.session
        assert session is not None, receipt.number  # cash is always taken into a drawer
        assert OPENS <= local(receipt.issued_at).time() < CLOSES, receipt.number
        assert receipt.business_date == local(receipt.issued_at).date() == session.business_date
        assert session.opened_at <= receipt.issued_at
        assert session.closed_at is None or receipt.issued_at <= session.closed_at
    for center in counters:
        numbers = list(
            Receipt.objects.filter(center=center).order_by("issued_at").values_list("number")
        )
        assert numbers == sorted(numbers), center.code

    # The audit log is in time order; each application's history too, and its due date
    # is what the SLA gave it on the day it came in (some are overdue now).
    stamps = list(AuditEvent.objects.order_by("seq").values_list("at", flat=True))
    assert stamps == sorted(stamps)
    for app in Application.objects.select_related("service"):
        history = list(app.events.values_list("created_at", flat=True))  # type: ignore[attr-defined]
        assert history == sorted(history) and history[0] >= app.created_at
        due = add_working_days(local(app.created_at).date(), app.service.sla_days)
        assert app.sla_due == due, app.reference
    open_states = [Status.PAID, Status.IN_REVIEW, Status.RETURNED]
    assert Application.objects.filter(sla_due__lt=today, status__in=open_states).exists()

    # The post reports on a parcel only after it was handed in; and what was applied for
    # online today (a day in progress) has not been reviewed, printed or posted yet.
    for shipment in Shipment.objects.prefetch_related("events"):
        for event in shipment.events.all():
            assert event.occurred_at >= shipment.created_at, (shipment.tracking_number, event)
    made_today = Application.objects.filter(channel=Channel.ONLINE, created_at__date=today)
    assert made_today.exists()
    assert _statuses(made_today) <= {Status.SUBMITTED, Status.PAID}


def test_online_applications_in_every_state_paid_online(demo: dict[str, int]) -> None:
    online = Application.objects.filter(channel=Channel.ONLINE)
    assert set(online.values_list("center__code", flat=True)) == {"C00"}
    assert _statuses(online) == set(Status.values)
    # Made by the demo citizens' own portal accounts, for their own citizen records.
    accounts = {u.pk for u in User.objects.filter(citizen__isnull=False) if citizen_of(u)}
    assert set(online.values_list("created_by", flat=True)) <= accounts
    assert not online.filter(created_by__isnull=True).exists()

    # Paid online only: a gateway receipt per paid application, never cash, no drawer.
    beyond_payment = online.exclude(status__in=[Status.SUBMITTED])
    paid = beyond_payment.exclude(status=Status.CANCELLED, receipts__isnull=True)
    assert paid.exists()
    for app in paid:
        receipts = list(app.receipts.all())  # type: ignore[attr-defined]
        assert [r.method for r in receipts] == ["gateway"], app.reference
        assert receipts[0].session_id is None and receipts[0].external_ref.startswith("sandbox:")
        assert PaymentIntent.objects.get(receipt=receipts[0]).status in (
            IntentStatus.SUCCEEDED,
            IntentStatus.REFUNDED,
        )
    # Cancelled after paying: refunded through the gateway (and told so by its webhook).
    refunded = online.filter(status=Status.CANCELLED, receipts__refunds__isnull=False)
    assert refunded.exists()
    assert Refund.objects.filter(receipt__application__in=refunded, method="gateway").exists()
    # Still awaiting payment: a declined card, and one paid whose webhook is late.
    waiting = online.filter(status=Status.SUBMITTED)
    intents = PaymentIntent.objects.filter(application__in=waiting)
    assert set(intents.values_list("status", flat=True)) >= {
        IntentStatus.DECLINED,
        IntentStatus.PENDING,
    }
    late = OutboxMessage.objects.filter(kind="webhook", state="pending")
    assert late.count() == 1 and late.get().next_attempt_at > timezone.now()


def test_online_delivery_by_post_and_at_a_chosen_center(demo: dict[str, int]) -> None:
    online = Application.objects.filter(channel=Channel.ONLINE)
    shipments = Shipment.objects.filter(application__in=online)
    assert set(shipments.values_list("state", flat=True)) == {
        Shipment.State.DISPATCHED,
        Shipment.State.DELIVERED,
        Shipment.State.RETURNED,
    }
    assert shipments.filter(state="dispatched", application__status=Status.DISPATCHED).exists()
    assert shipments.filter(state="delivered", application__status=Status.DELIVERED).exists()
    # The post brought one back: it waits in a (real, counter) center's pickup queue.
    back = shipments.get(state=Shipment.State.RETURNED)
    app = back.application
    assert app.status == Status.READY_FOR_PICKUP and app.delivery_mode == "post"
    assert back.returned_to is not None and app.pickup_center_id == back.returned_to_id
    assert back.returned_to.accepts_pickup and back.returned_to.code != "C00"
    # Pickups at the center chosen in advance: waiting there, or handed over by its clerk.
    pickups = online.filter(delivery_mode="pickup", pickup_center__isnull=False)
    assert pickups.filter(status=Status.READY_FOR_PICKUP).exists()
    handed = pickups.filter(status=Status.HANDED_OVER)
    assert handed.exists()
    for app in handed:
        handover = app.handover  # type: ignore[attr-defined]
        assert handover.center_id == handover.handed_by.center_id == app.pickup_center_id
    # The back office fulfilled them (no counter clerk reviewed an online application).
    assert not online.filter(events__action="approve", events__actor__groups__name="clerk").exists()


def test_audit_chain_and_money_balance_everywhere_every_day(demo: dict[str, int]) -> None:
    assert verify_chain() == []
    # Everything the demo did is named in the audit log in Arabic, not only by its code.
    with translation.override("ar"):
        unnamed = {
            action
            for action in AuditEvent.objects.values_list("action", flat=True).distinct()
            if not any("\u0600" <= ch <= "\u06ff" for ch in action_label(action))
        }
    assert unnamed == set()
    days = _business_days()
    assert days
    for center in Center.objects.all():
        for day in days:
            assert money_balances(center, day), (center.code, day)
    # The electronic center's money is all electronic, awaiting the gateway's settlement file.
    assert Receipt.objects.filter(center__code="C00", method="gateway").exists()
    assert not Receipt.objects.filter(center__code="C00", method="cash").exists()


def test_sms_in_the_outbox_sent_none_given_up(demo: dict[str, int]) -> None:
    sms = OutboxMessage.objects.filter(kind="sms")
    assert sms.filter(state="sent").exists() and not sms.filter(state="dead").exists()
    assert SandboxSms.objects.count() == sms.filter(state="sent").count()
    for message in sms.filter(state="sent"):
        assert message.created_at <= message.sent_at <= timezone.now(), message.pk
    # The demo citizens hear about their online applications.
    phones = {c[6] for c in DEMO_CITIZENS}
    assert SandboxSms.objects.filter(phone__in=phones).exists()


def test_citizens_may_download_statements_but_not_licences(demo: dict[str, int]) -> None:
    downloadable = set(Service.objects.filter(citizen_download=True).values_list("code", flat=True))
    assert {"civil-individual-extract", "labour-non-employment"} <= downloadable
    assert not {"council-building-permit", "council-trade-licence"} & downloadable
