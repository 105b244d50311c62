"""Meter services (issue 5 points 5-7): a new meter from its application to an active
subscription (field inspection, approval, SMS), ownership transfer (refused while bills are
unpaid, history kept, effective-date rules) and the clearance certificate (only when nothing
is owed, checked again at issuance). Through the service functions, and the clerk's pages."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import inspections
from baladiya.applications import services as apps
from baladiya.applications.models import Application, InspectionVisit
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Agency, Service, ServiceField
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.errors import Conflict, DomainError, IllegalTransition, NotAllowed, NotFound
from baladiya.core.models import AuditEvent
from baladiya.core.seed.homs import seed_homs
from baladiya.core.testing import in_threads, logged_in
from baladiya.core.uploads import CheckedUpload
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document, verify_pdf
from baladiya.documents.tests.conftest import pdf_text
from baladiya.notifications.models import OutboxMessage
from baladiya.payments import services as pay
from baladiya.water import meters
from baladiya.water.models import Bill, Category, OwnerPeriod, Subscription
from baladiya.water.services import pay_bills, record_bill

pytestmark = pytest.mark.django_db

NEW_METER, TRANSFER, CLEARANCE = "water-new-meter", "water-meter-transfer", "water-clearance"
TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def seeded(center: Center, other_center: Center, clerk: User, cashier: User) -> None:
    """The Homs catalog (the three water services) on top of the shared C03 and C05."""
    seed_homs()


@pytest.fixture
def water_officer(make_user: Callable[..., User], seeded: None) -> User:
    return make_user(
        "officer.water", roles.OFFICER, agency=Agency.objects.get(code="water"), full_name="مهندس"
    )


@pytest.fixture
def civil_officer(make_user: Callable[..., User], seeded: None) -> User:
    return make_user("officer.civil", roles.OFFICER, agency=Agency.objects.get(code="civil"))


@pytest.fixture
def drawer(cashier: User) -> Any:
    return pay.open_session(cashier, 0)


@pytest.fixture
def buyer(db: None) -> Citizen:
    return Citizen.objects.create(
        national_number="04031234567",
        first_name="سعاد",
        father_name="خليل",
        last_name="الأتاسي",
        mother_name="نوال",
        birth_date=dt.date(1988, 2, 3),
        phone="+963933765432",
    )


@pytest.fixture
def meter(citizen: Citizen, seeded: None) -> Subscription:
    """A meter held by `citizen` for three years, as imported (with its owner period)."""
    since = TODAY - dt.timedelta(days=3 * 365)
    sub = Subscription.objects.create(
        meter_number="HMS-0042117",
        subscriber=citizen,
        address="حي الإنشاءات، شارع الحضارة 12",
        category=Category.HOUSEHOLD,
        active_since=since,
    )
    OwnerPeriod.objects.create(subscription=sub, citizen=citizen, valid_from=since)
    return sub


def _paper() -> CheckedUpload:
    content = b"%PDF-1.4\n% a scanned paper\n%%EOF\n"
    return CheckedUpload(content, "application/pdf", hashlib.sha256(content).hexdigest(), "p.pdf")


def _submit(clerk: User, code: str, fields: dict[str, Any], applicant: Citizen) -> Application:
    service = Service.objects.get(code=code)
    assert clerk.center is not None
    return apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=applicant,
            center=clerk.center,
            fields=fields,
            pickup_center=clerk.center,
            attachments={a.code: _paper() for a in service.attachments.all()},
        ),
    )


def _bills(meter: Subscription, *ends: dt.date) -> list[Bill]:
    """One household bill per cycle end (40 m³ at 150 = 6,000 piastres each)."""
    made = []
    reading = 1000
    for end in sorted(ends):
        bill, _ = record_bill(meter, end.strftime("%Y-%m"), end, reading, reading + 40)
        reading += 40
        made.append(bill)
    return made


def _status(app: Application) -> str:
    return Application.objects.get(pk=app.pk).status


REGISTRATION = {
    "address": "حي الإنشاءات، شارع البرازيل، بناء 7",
    "neighbourhood": "الإنشاءات",
    "category": "منزلي",
    "phone": "0944123456",
}


@pytest.fixture
def in_review(
    seeded: None, clerk: User, cashier: User, drawer: Any, citizen: Citizen, water_officer: User
) -> Application:
    """A new-meter application at C03: papers taken, fee paid, documents being checked by
    the water establishment's officer."""
    app = _submit(clerk, NEW_METER, REGISTRATION, citizen)
    pay.record_cash_payment(app, cashier)
    return apps.start_review(app, water_officer)


def _pass(app: Application, officer: User, meter_number: str = "hms-77001") -> InspectionVisit:
    visit = inspections.schedule_inspection(app, officer, TODAY, inspector_name="م. سامي")
    return inspections.record_inspection(visit, officer, "passed", meter_number=meter_number)


# ---------------------------------------------------------------- new meter


def test_new_meter_from_application_to_active_subscription(
    in_review: Application, water_officer: User, citizen: Citizen, clerk: User
) -> None:
    app = in_review
    assert app.fee_amount == Service.objects.get(code=NEW_METER).fee_on(TODAY) > 0

    # No approval without a field visit, nor while it waits for its result.
    with pytest.raises(DomainError) as missing:
        apps.approve(app, water_officer)
    assert missing.value.code == "inspection_missing"
    visit = inspections.schedule_inspection(app, water_officer, TODAY, inspector=water_officer)
    assert visit.result == "pending" and visit.inspector_name == "مهندس"
    with pytest.raises(DomainError) as pending:
        apps.approve(app, water_officer)
    assert pending.value.code == "inspection_pending"
    assert _status(app) == Status.IN_REVIEW
    assert not Subscription.objects.exists()

    # The visit passes; the installed meter's number is recorded (normalized).
    inspections.record_inspection(
        visit, water_officer, "passed", "عداد مركب", meter_number=" hms-77001 "
    )
    visit.refresh_from_db()
    assert (visit.result, visit.meter_number, visit.recorded_by) == (
        "passed",
        "HMS-77001",
        water_officer,
    )

    apps.approve(app, water_officer, "كشف سليم")
    assert _status(app) == Status.APPROVED
    sub = Subscription.objects.get()
    assert (sub.meter_number, sub.subscriber, sub.category, sub.active_since) == (
        "HMS-77001",
        citizen,
        Category.HOUSEHOLD,
        TODAY,
    )
    assert sub.address == REGISTRATION["address"] and sub.neighbourhood.name_ar == "الإنشاءات"
    assert list(sub.owners.values_list("citizen", "valid_from", "valid_to")) == [
        (citizen.pk, TODAY, None)
    ]

    # The citizen is told: the visit's date, then the active subscription with its meter.
    texts = list(
        OutboxMessage.objects.filter(recipient=citizen.phone).values_list("body", flat=True)
    )
    assert any("HMS-77001" in t and app.reference in t for t in texts)
    assert any(TODAY.isoformat() in t for t in texts)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "application.inspection_scheduled",
        "application.inspection_recorded",
        "water.subscription_created",
        "application.approve",
    } <= actions
    assert verify_chain() == []

    # The subscription notice: issued at the counter, printed with the meter number.
    doc = issue_document(app, clerk)
    text = pdf_text(bytes(doc.pdf))
    assert "HMS-77001" in text and TODAY.isoformat() in text
    assert verify_pdf(bytes(doc.pdf)).status == "valid"


def test_a_failed_inspection_blocks_approval_until_a_new_visit_passes(
    in_review: Application, water_officer: User, clerk: User
) -> None:
    app = in_review
    visit = inspections.schedule_inspection(app, water_officer, TODAY, inspector_name="م. سامي")
    with pytest.raises(DomainError) as no_reason:
        inspections.record_inspection(visit, water_officer, "failed")
    assert no_reason.value.code == "inspection_notes"
    inspections.record_inspection(visit, water_officer, "failed", "لا يوجد مكان للعداد")
    with pytest.raises(DomainError) as failed:
        apps.approve(app, water_officer)
    assert failed.value.code == "inspection_failed"
    assert not Subscription.objects.exists()

    # Returned for correction, corrected at the counter, checked again, a new visit passes.
    apps.return_for_correction(app, water_officer, "جهزوا مكاناً للعداد عند المدخل")
    apps.resubmit(app, clerk, {**REGISTRATION, "address": "حي الإنشاءات، المدخل الشرقي"})
    apps.start_review(app, water_officer)
    _pass(app, water_officer)
    apps.approve(app, water_officer)
    assert Subscription.objects.get().address == "حي الإنشاءات، المدخل الشرقي"
    assert list(app.inspections.values_list("result", flat=True)) == ["failed", "passed"]


def test_a_failed_inspection_can_end_in_rejection(
    in_review: Application, water_officer: User
) -> None:
    visit = inspections.schedule_inspection(in_review, water_officer, TODAY, inspector_name="س")
    inspections.record_inspection(visit, water_officer, "failed", "الشبكة لا تصل إلى العقار")
    apps.reject(in_review, water_officer, "لا يمكن التركيب")
    assert _status(in_review) == Status.REJECTED
    assert not Subscription.objects.exists()


def test_illegal_inspection_steps_are_refused_and_change_nothing(
    seeded: None,
    clerk: User,
    cashier: User,
    drawer: Any,
    citizen: Citizen,
    water_officer: User,
) -> None:
    app = _submit(clerk, NEW_METER, REGISTRATION, citizen)
    pay.record_cash_payment(app, cashier)
    with pytest.raises(DomainError) as not_in_review:  # paid, documents not checked yet
        inspections.schedule_inspection(app, water_officer, TODAY, inspector_name="س")
    assert not_in_review.value.code == "illegal_transition"
    apps.start_review(app, water_officer)
    for day, code in ((TODAY - DAY, "visit_date"), (TODAY + 61 * DAY, "visit_date")):
        with pytest.raises(DomainError) as bad_day:
            inspections.schedule_inspection(app, water_officer, day, inspector_name="س")
        assert bad_day.value.code == code
    with pytest.raises(DomainError) as nobody:
        inspections.schedule_inspection(app, water_officer, TODAY, inspector_name="  ")
    assert nobody.value.code == "inspector"
    assert not InspectionVisit.objects.exists()

    visit = inspections.schedule_inspection(app, water_officer, TODAY + DAY, inspector_name="س")
    with pytest.raises(Conflict):  # twice: one visit waits already
        inspections.schedule_inspection(app, water_officer, TODAY, inspector_name="س")
    with pytest.raises(DomainError) as early:  # the visit has not happened yet
        inspections.record_inspection(visit, water_officer, "passed", meter_number="HMS-1")
    assert early.value.code == "visit_date"
    InspectionVisit.objects.filter(pk=visit.pk).update(scheduled_for=TODAY)
    visit.refresh_from_db()
    with pytest.raises(DomainError) as no_meter:  # a passed visit names the meter installed
        inspections.record_inspection(visit, water_officer, "passed")
    assert no_meter.value.code == "meter_number"
    with pytest.raises(DomainError) as bad_meter:
        inspections.record_inspection(visit, water_officer, "passed", meter_number="عداد؟")
    assert bad_meter.value.code == "meter_number"
    with pytest.raises(DomainError):
        inspections.record_inspection(visit, water_officer, "maybe", meter_number="HMS-1")
    inspections.record_inspection(visit, water_officer, "passed", meter_number="HMS-1")
    with pytest.raises(Conflict) as twice:
        inspections.record_inspection(visit, water_officer, "failed", "x")
    assert twice.value.code == "inspection_recorded"
    with pytest.raises(Conflict) as after_pass:
        inspections.schedule_inspection(app, water_officer, TODAY, inspector_name="س")
    assert after_pass.value.code == "inspection_passed"
    visit.refresh_from_db()
    assert (visit.result, visit.meter_number) == ("passed", "HMS-1")
    assert InspectionVisit.objects.count() == 1
    assert AuditEvent.objects.filter(action="application.inspection_recorded").count() == 1


def test_wrong_role_or_other_center_may_not_inspect(
    in_review: Application,
    make_user: Callable[..., User],
    other_center: Center,
    clerk: User,
    cashier: User,
    civil_officer: User,
    water_officer: User,
) -> None:
    other_supervisor = make_user("super05", roles.SUPERVISOR, center=other_center)
    own_supervisor = make_user("super03", roles.SUPERVISOR, center=in_review.center)
    # The clerk takes the application; the water establishment decides (back office).
    for who in (clerk, cashier, civil_officer, other_supervisor):
        with pytest.raises(NotAllowed):
            inspections.schedule_inspection(in_review, who, TODAY, inspector_name="س")
    assert not InspectionVisit.objects.exists()
    visit = inspections.schedule_inspection(in_review, own_supervisor, TODAY, inspector_name="س")
    for who in (clerk, cashier, civil_officer, other_supervisor):
        with pytest.raises(NotAllowed):
            inspections.record_inspection(visit, who, "passed", meter_number="HMS-5")
        with pytest.raises(NotAllowed):
            apps.approve(in_review, who)
    visit.refresh_from_db()
    assert visit.result == "pending"
    assert _status(in_review) == Status.IN_REVIEW
    inspections.record_inspection(visit, water_officer, "passed", meter_number="HMS-5")


def test_approving_twice_creates_one_subscription(
    in_review: Application, water_officer: User
) -> None:
    _pass(in_review, water_officer)
    apps.approve(in_review, water_officer)
    with pytest.raises(IllegalTransition):  # a double click
        apps.approve(Application.objects.get(pk=in_review.pk), water_officer)
    assert Subscription.objects.count() == 1
    assert OwnerPeriod.objects.count() == 1
    assert AuditEvent.objects.filter(action="water.subscription_created").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between threads")
def test_two_approvals_at_once_create_one_subscription(
    in_review: Application, water_officer: User
) -> None:
    _pass(in_review, water_officer)
    results = in_threads(
        [lambda: apps.approve(Application.objects.get(pk=in_review.pk), water_officer)] * 2
    )
    assert sum(isinstance(r, Application) for r in results) == 1
    assert sum(isinstance(r, IllegalTransition) for r in results) == 1
    assert Subscription.objects.count() == 1 == OwnerPeriod.objects.count()


def test_a_meter_number_is_given_once(
    in_review: Application,
    water_officer: User,
    meter: Subscription,
    clerk: User,
    cashier: User,
    buyer: Citizen,
) -> None:
    visit = inspections.schedule_inspection(in_review, water_officer, TODAY, inspector_name="س")
    with pytest.raises(Conflict) as taken:  # an existing subscription's number
        inspections.record_inspection(visit, water_officer, "passed", meter_number="hms-0042117")
    assert taken.value.code == "meter_taken"
    inspections.record_inspection(visit, water_officer, "passed", meter_number="HMS-9")

    second = _submit(clerk, NEW_METER, REGISTRATION, buyer)
    pay.record_cash_payment(second, cashier)
    apps.start_review(second, water_officer)
    other = inspections.schedule_inspection(second, water_officer, TODAY, inspector_name="س")
    with pytest.raises(Conflict) as recorded:  # recorded for the first, still open
        inspections.record_inspection(other, water_officer, "passed", meter_number="HMS-9")
    assert recorded.value.code == "meter_taken"

    # The number became a subscription's meanwhile (an import): approval refused, nothing kept.
    Subscription.objects.create(
        meter_number="HMS-9",
        subscriber=buyer,
        address="—",
        category=Category.HOUSEHOLD,
        active_since=TODAY,
    )
    with pytest.raises(Conflict):
        apps.approve(in_review, water_officer)
    assert _status(in_review) == Status.IN_REVIEW
    assert Subscription.objects.filter(subscriber=in_review.applicant).count() == 1  # `meter`


def test_meter_subscriptions_change_on_the_central_node_only(
    in_review: Application, water_officer: User, settings: Any
) -> None:
    settings.BALADIYA_NODE = "center:C03"
    with pytest.raises(DomainError) as where:
        inspections.schedule_inspection(in_review, water_officer, TODAY, inspector_name="س")
    assert where.value.code == "central_only"
    page = logged_in(water_officer).get(f"/applications/{in_review.reference}/").content.decode()
    assert 'id="inspection"' in page and 'id="schedule-inspection"' not in page
    assert "on the central node" in page
    settings.BALADIYA_NODE = "central"
    _pass(in_review, water_officer)
    settings.BALADIYA_NODE = "center:C03"
    with pytest.raises(DomainError):
        apps.approve(in_review, water_officer)
    assert not Subscription.objects.exists()
    settings.BALADIYA_NODE = "central"
    apps.approve(in_review, water_officer)
    settings.BALADIYA_NODE = "center:C03"  # the notice is the central node's to issue
    with pytest.raises(DomainError) as issued:
        issue_document(in_review, water_officer)
    assert issued.value.code == "central_only"
    assert not IssuedDocument.objects.exists()


# ---------------------------------------------------------------- transfer


def _transfer_fields(meter: Subscription, effective: dt.date, seller: str = "") -> dict[str, Any]:
    return {
        "meter_number": meter.meter_number.lower(),
        "seller_national_number": seller or meter.subscriber.national_number,
        "effective_date": effective.isoformat(),
    }


def test_transfer_refused_while_bills_are_unpaid_then_made_after_paying(
    meter: Subscription,
    citizen: Citizen,
    buyer: Citizen,
    clerk: User,
    cashier: User,
    drawer: Any,
    water_officer: User,
    center: Center,
) -> None:
    bills = _bills(meter, TODAY - 100 * DAY, TODAY - 40 * DAY)
    effective = TODAY - 10 * DAY
    with pytest.raises(meters.ArrearsRefusal) as owed:
        _submit(clerk, TRANSFER, _transfer_fields(meter, effective), buyer)
    assert "120.00" in str(owed.value.message)  # 2 x 6,000 piastres, as the cashier says it
    assert bills[0].cycle in str(owed.value.message)
    assert owed.value.arrears.total == 12_000 and owed.value.code == "arrears"
    assert not Application.objects.exists()

    pay_bills(bills, cashier, center)  # the pay-now path: the cashier takes the bills
    app = _submit(clerk, TRANSFER, _transfer_fields(meter, effective), buyer)
    pay.record_cash_payment(app, cashier)
    apps.start_review(app, water_officer)
    apps.approve(app, water_officer)

    meter.refresh_from_db()
    assert meter.subscriber == buyer
    periods = list(
        meter.owners.order_by("valid_from").values_list("citizen", "valid_from", "valid_to")
    )
    assert periods == [
        (citizen.pk, meter.active_since, effective - DAY),  # the seller's history is kept
        (buyer.pk, effective, None),
    ]
    event = AuditEvent.objects.get(action="water.ownership_transferred")
    assert event.data["effective"] == effective.isoformat()

    # The transfer notice names the buyer (the holder) and the previous subscriber.
    doc = issue_document(app, water_officer)
    rows = {r["label_en"]: r["value"] for r in doc.content["fields"]}
    assert rows["Previous subscriber"] == citizen.full_name
    assert doc.holder_national_number == buyer.national_number
    assert app.field_values["meter_number"] == meter.meter_number  # typed in lower case
    assert meter.meter_number in pdf_text(bytes(doc.pdf))
    assert OutboxMessage.objects.filter(recipient=citizen.phone, body__contains=meter.meter_number)
    assert verify_chain() == []


def test_a_bill_arriving_after_submission_refuses_the_approval(
    meter: Subscription,
    buyer: Citizen,
    clerk: User,
    cashier: User,
    drawer: Any,
    water_officer: User,
) -> None:
    effective = TODAY + 5 * DAY
    app = _submit(clerk, TRANSFER, _transfer_fields(meter, effective), buyer)
    pay.record_cash_payment(app, cashier)
    apps.start_review(app, water_officer)
    _bills(meter, TODAY - 3 * DAY)
    with pytest.raises(meters.ArrearsRefusal) as owed:
        apps.approve(app, water_officer)
    assert "60.00" in str(owed.value.message)
    assert _status(app) == Status.IN_REVIEW
    meter.refresh_from_db()
    assert meter.subscriber != buyer and meter.owners.count() == 1

    # The page says what is owed; at the counter it offers to pay it now (the bills page of
    # this meter), elsewhere it says where the bills are paid.
    page = logged_in(clerk).get(f"/applications/{app.reference}/").content.decode()
    assert "60.00" in page and 'id="arrears"' in page
    assert f'href="/water/counter/?q={meter.meter_number}"' in page
    page = logged_in(water_officer).get(f"/applications/{app.reference}/").content.decode()
    assert "60.00" in page and "/water/counter/" not in page
    assert "The bills are paid at the cash desk (water bills)" in page


def test_pay_now_link_points_at_the_counter_page_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(meters, "reverse", lambda name: "/water/")
    assert meters.pay_now_url("HMS-1 2") == "/water/?q=HMS-1+2"

    def missing(name: str) -> str:
        raise NoReverseMatch(name)

    monkeypatch.setattr(meters, "reverse", missing)
    assert meters.pay_now_url("HMS-1") is None


def test_history_is_kept_over_two_transfers(
    meter: Subscription, citizen: Citizen, buyer: Citizen, water_officer: User
) -> None:
    third = Citizen.objects.create(
        national_number="04051112223", first_name="ليلى", father_name="سمير", last_name="الخوري"
    )
    first = TODAY - 60 * DAY
    second = TODAY - 20 * DAY
    meters.transfer_ownership(
        meter,
        meters.TransferRequest(meter.meter_number, citizen.national_number, buyer, first),
        water_officer,
    )
    meters.transfer_ownership(
        meter,
        meters.TransferRequest(meter.meter_number, buyer.national_number, third, second),
        water_officer,
    )
    meter.refresh_from_db()
    assert meter.subscriber == third
    assert [(p.citizen, p.valid_from, p.valid_to) for p in meters.owner_history(meter)] == [
        (citizen, meter.active_since, first - DAY),
        (buyer, first, second - DAY),
        (third, second, None),
    ]


def test_transfer_rules_effective_date_seller_buyer(
    meter: Subscription,
    citizen: Citizen,
    buyer: Citizen,
    water_officer: User,
    cashier: User,
    center: Center,
    drawer: Any,
) -> None:
    (bill,) = _bills(meter, TODAY - 30 * DAY)
    pay_bills([bill], cashier, center)

    def refused(effective: dt.date, seller: str = "", to: Citizen = buyer) -> str:
        request = meters.TransferRequest(
            meter.meter_number, seller or citizen.national_number, to, effective
        )
        with pytest.raises(DomainError) as exc:
            meters.transfer_ownership(meter, request, water_officer)
        return exc.value.code

    assert refused(bill.period_end) == "effective_date"  # the last billed cycle is the seller's
    assert refused(bill.period_end - 10 * DAY) == "effective_date"
    assert refused(TODAY + 91 * DAY) == "effective_date"  # too far ahead
    assert refused(TODAY, seller="04099999999") == "seller"
    assert refused(TODAY, to=citizen) == "buyer"
    with pytest.raises(NotFound):
        meters.find_subscription("HMS-404")
    meter.refresh_from_db()
    assert meter.subscriber == citizen and meter.owners.count() == 1
    assert not AuditEvent.objects.filter(action="water.ownership_transferred").exists()

    # The day after the last bill's period, and up to 90 days ahead, are fine.
    meters.transfer_ownership(
        meter,
        meters.TransferRequest(
            meter.meter_number, citizen.national_number, buyer, TODAY + 90 * DAY
        ),
        water_officer,
    )
    assert meter.owners.get(valid_to__isnull=True).valid_from == TODAY + 90 * DAY


def test_a_transfer_never_starts_before_the_current_owner_did(
    meter: Subscription, citizen: Citizen, buyer: Citizen, water_officer: User
) -> None:
    OwnerPeriod.objects.filter(subscription=meter).update(valid_from=TODAY - 5 * DAY)
    request = meters.TransferRequest(
        meter.meter_number, citizen.national_number, buyer, TODAY - 5 * DAY
    )
    with pytest.raises(DomainError) as early:
        meters.transfer_ownership(meter, request, water_officer)
    assert early.value.code == "effective_date"


def test_an_imported_meter_without_history_gets_the_sellers_period(
    seeded: None, citizen: Citizen, buyer: Citizen, water_officer: User
) -> None:
    sub = Subscription.objects.create(
        meter_number="HMS-31",
        subscriber=citizen,
        address="—",
        category=Category.COMMERCIAL,
        active_since=dt.date(2020, 1, 1),
    )
    meters.transfer_ownership(
        sub, meters.TransferRequest("HMS-31", citizen.national_number, buyer, TODAY), water_officer
    )
    assert [(p.citizen, p.valid_from, p.valid_to) for p in meters.owner_history(sub)] == [
        (citizen, dt.date(2020, 1, 1), TODAY - DAY),
        (buyer, TODAY, None),
    ]


# ---------------------------------------------------------------- clearance


def _clearance_fields(meter: Subscription) -> dict[str, Any]:
    return {
        "meter_number": meter.meter_number,
        "national_number": meter.subscriber.national_number,
        "purpose": "مصرف",
    }


def test_clearance_refused_while_owed_and_issued_once_paid(
    meter: Subscription, citizen: Citizen, clerk: User, cashier: User, drawer: Any, center: Center
) -> None:
    bills = _bills(meter, TODAY - 100 * DAY, TODAY - 40 * DAY)
    with pytest.raises(meters.ArrearsRefusal) as owed:
        _submit(clerk, CLEARANCE, _clearance_fields(meter), citizen)
    assert "120.00" in str(owed.value.message)
    assert not Application.objects.exists()

    pay_bills(bills, cashier, center)
    app = _submit(clerk, CLEARANCE, _clearance_fields(meter), citizen)
    pay.record_cash_payment(app, cashier)
    apps.start_review(app, clerk)  # a counter service: the clerk decides
    apps.approve(app, clerk)
    doc = issue_document(app, clerk)
    pdf = bytes(doc.pdf)
    text = pdf_text(pdf)
    assert meter.meter_number in text
    assert citizen.national_number in text
    assert bills[-1].cycle in text  # nothing owed up to the latest billed cycle
    assert timezone.localtime(doc.issued_at).date().isoformat() in text  # the date in Homs
    assert "الحمصي" in text  # the subscriber's name
    rows = {r["label_en"]: r["value"] for r in doc.content["fields"]}
    assert rows["Latest billing cycle"] == bills[-1].cycle
    assert rows["Subscriber"] == citizen.full_name
    assert verify_pdf(pdf).status == "valid"


def test_clearance_refused_at_issuance_when_a_bill_arrived_meanwhile(
    meter: Subscription, citizen: Citizen, clerk: User, cashier: User, drawer: Any
) -> None:
    app = _submit(clerk, CLEARANCE, _clearance_fields(meter), citizen)
    pay.record_cash_payment(app, cashier)
    apps.start_review(app, clerk)
    apps.approve(app, clerk)
    _bills(meter, TODAY - 2 * DAY)  # the establishment's new bill
    with pytest.raises(meters.ArrearsRefusal) as owed:
        issue_document(app, clerk)
    assert "60.00" in str(owed.value.message)
    assert _status(app) == Status.APPROVED
    assert not IssuedDocument.objects.exists()

    # Paid: the same application is issued, with the first document number (no gap).
    pay_bills(list(Bill.objects.filter(state="unpaid")), cashier, clerk.center)  # type: ignore[arg-type]
    doc = issue_document(app, clerk)
    assert doc.number.endswith("-000001")


def test_clearance_needs_the_subscribers_national_number_and_a_known_meter(
    meter: Subscription, buyer: Citizen, clerk: User
) -> None:
    with pytest.raises(DomainError) as other:
        _submit(
            clerk,
            CLEARANCE,
            {**_clearance_fields(meter), "national_number": buyer.national_number},
            buyer,
        )
    assert other.value.code == "subscriber"
    with pytest.raises(NotFound):
        _submit(clerk, CLEARANCE, {**_clearance_fields(meter), "meter_number": "HMS-404"}, buyer)
    assert not Application.objects.exists()


def test_an_overpayment_does_not_block_a_clearance(meter: Subscription, citizen: Citizen) -> None:
    bill, _ = record_bill(meter, "2026-05", TODAY - 20 * DAY, 10, 50)
    Bill.objects.filter(pk=bill.pk).update(state=Bill.State.PAID)
    facts = meters.clearance_facts(meter.meter_number, citizen.national_number)
    assert facts.latest_cycle == "2026-05"


# ---------------------------------------------------------------- the seed


def test_seed_renames_the_old_subscription_number_field_once(seeded: None) -> None:
    service = Service.objects.get(code=CLEARANCE)
    assert list(service.fields.values_list("name", "type")) == [
        ("meter_number", "text"),
        ("national_number", "national_number"),
        ("purpose", "choice"),
    ]
    # A database seeded before: the clearance asked for a numeric subscription number.
    ServiceField.objects.filter(service=service, name="meter_number").update(
        name="subscription_number", type="number", label_ar="رقم الاشتراك"
    )
    assert seed_homs()["created"] == {"fields upgraded": 1}
    assert service.fields.get(name="meter_number").type == "text"
    assert not service.fields.filter(name="subscription_number").exists()
    assert seed_homs()["created"] == {}
    for code in (NEW_METER, TRANSFER):
        svc = Service.objects.get(code=code)
        assert svc.agency.code == "water" and svc.approval == Service.Approval.BACK_OFFICE
        assert svc.attachments.filter(required=True).count() == 2


# ---------------------------------------------------------------- the clerk's pages


def _page(client: Client, app: Application) -> str:
    return client.get(f"/applications/{app.reference}/").content.decode()


def test_inspection_panel_schedules_records_and_shows_the_subscription(
    in_review: Application, water_officer: User, clerk: User
) -> None:
    officer = logged_in(water_officer)
    page = _page(officer, in_review)
    assert 'id="inspection"' in page and 'id="schedule-inspection"' in page
    base = f"/water/meters/{in_review.reference}/inspections/"
    response = officer.post(
        base + "schedule/",
        {"scheduled_for": TODAY.isoformat(), "inspector": str(water_officer.pk)},
    )
    assert response.status_code == 302 and response["Location"].endswith("#inspection")
    visit = InspectionVisit.objects.get()
    assert visit.inspector == water_officer and visit.scheduled_by == water_officer
    page = _page(officer, in_review)
    assert 'id="record-inspection"' in page and 'id="schedule-inspection"' not in page

    # A bad meter number: a message, nothing recorded.
    response = officer.post(
        f"{base}{visit.pk}/record/", {"result": "passed", "meter_number": "؟"}, follow=True
    )
    assert "is not a meter number" in response.content.decode()
    visit.refresh_from_db()
    assert visit.result == "pending"
    officer.post(f"{base}{visit.pk}/record/", {"result": "passed", "meter_number": "HMS-4242"})
    visit.refresh_from_db()
    assert (visit.result, visit.meter_number) == ("passed", "HMS-4242")

    officer.post(f"/applications/{in_review.reference}/act/approve/", {"note": ""})
    page = _page(logged_in(clerk), in_review)  # the clerk at the counter sees it too
    assert 'id="subscription"' in page and "HMS-4242" in page
    assert 'id="record-inspection"' not in page


def test_inspection_pages_refuse_wrong_role_and_other_center(
    in_review: Application, clerk: User, cashier: User, other_clerk: User, water_officer: User
) -> None:
    url = f"/water/meters/{in_review.reference}/inspections/schedule/"
    data = {"scheduled_for": TODAY.isoformat(), "inspector_name": "س"}
    assert logged_in(other_clerk).post(url, data).status_code == 404  # not revealed
    for who in (clerk, cashier):
        client = logged_in(who)
        assert client.post(url, data).status_code == 403
        assert 'id="schedule-inspection"' not in _page(client, in_review)
    assert logged_in(water_officer).get(url).status_code == 405  # POST only
    assert not InspectionVisit.objects.exists()

    visit = inspections.schedule_inspection(in_review, water_officer, TODAY, inspector_name="س")
    record = f"/water/meters/{in_review.reference}/inspections/{visit.pk}/record/"
    assert (
        logged_in(cashier).post(record, {"result": "passed", "meter_number": "X-1"}).status_code
        == 403
    )
    other = f"/water/meters/{in_review.reference}/inspections/{in_review.pk}/record/"
    assert logged_in(water_officer).post(other, {"result": "passed"}).status_code == 404
    visit.refresh_from_db()
    assert visit.result == "pending"


def test_transfer_and_clearance_pages_show_the_meter(
    meter: Subscription, citizen: Citizen, buyer: Citizen, clerk: User, water_officer: User
) -> None:
    app = _submit(clerk, TRANSFER, _transfer_fields(meter, TODAY), buyer)
    page = _page(logged_in(water_officer), app)
    assert 'id="meter"' in page and meter.meter_number in page and citizen.full_name in page
    assert "Nothing is owed for this meter." in page
    clearance = _submit(clerk, CLEARANCE, _clearance_fields(meter), citizen)
    page = _page(logged_in(clerk), clearance)
    assert 'id="meter"' in page and 'id="inspection"' not in page
