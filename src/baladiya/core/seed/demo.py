"""A lived-in demo: a few hundred applications in every state across the Homs centers.

Everything goes through the real service functions (numbers, receipts, documents, audit), so
the demo is also a smoke test of the whole counter flow. One application in five comes through
the electronic center (C00) from a demo citizen's portal account: paid online at the sandbox
gateway (its signed webhook delivered through the outbox), fulfilled by the back office, then
collected at the center the citizen chose or sent by the sandbox post (delivered, or returned
to a center's pickup queue). The outbox is pumped in-process (no web server runs yet), so
the SMS of the last applications are still waiting in it. Deterministic for a given seed (which
states, services, people; ids and gateway references are random).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.test.utils import override_settings
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import hooks
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import DeliveryMode, FieldType, Service
from baladiya.centers.demo import seed_status
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.errors import DomainError
from baladiya.notifications.senders import PermanentFailure, TransientFailure

FIRST_NAMES = [
    "أحمد", "محمد", "خالد", "عمر", "يوسف", "سامر", "رامي", "حسان", "علي", "مازن",
    "فاطمة", "مريم", "رنا", "هبة", "لمى", "ريم", "سلمى", "نور", "ديما", "رهف",
]  # fmt: skip
FATHER_NAMES = ["محمود", "عبد الله", "إبراهيم", "حسن", "مصطفى", "سليمان", "فؤاد", "جميل"]
LAST_NAMES = [
    "الحمصي", "الأتاسي", "السباعي", "الدروبي", "الجندي", "الخوري", "الزهراوي",
    "الرفاعي", "الحسيني", "العطار", "الشامي", "الأيوبي", "المصري", "النحاس",
]  # fmt: skip
MOTHER_NAMES = ["فاطمة", "خديجة", "سعاد", "نجاح", "وفاء", "سميرة", "ليلى", "منى"]


@dataclass(frozen=True)
class _Staff:
    """Who takes each step of one demo application."""

    clerk: User
    cashier: User
    reviewer: User
    supervisor: User | None
    pickup_clerk: User  # at the center the citizen chose for pickup


# How far along each demo application goes (weights sum to 100).
TARGETS: list[tuple[str, int]] = [
    (Status.SUBMITTED, 10),
    (Status.PAID, 8),
    (Status.IN_REVIEW, 8),
    (Status.APPROVED, 5),
    (Status.RETURNED, 5),
    (Status.REJECTED, 4),
    (Status.ISSUED, 5),
    (Status.READY_FOR_PICKUP, 13),
    (Status.HANDED_OVER, 28),
    (Status.CANCELLED, 7),
    (Status.DISPATCHED, 3),
    (Status.DELIVERED, 4),
]


def _staff(center: Center, role: str) -> User:
    user = User.objects.filter(center=center, groups__name=role, is_active=True).first()
    if user is None:
        raise RuntimeError(f"the demo needs a {role} at {center.code}: run `seed homs --demo`")
    return user


def _officer() -> User:
    user = User.objects.filter(groups__name=roles.OFFICER, agency__isnull=True).first()
    user = user or User.objects.filter(groups__name=roles.OFFICER).first()
    if user is None:
        raise RuntimeError("the demo needs an officer: run `seed homs --demo`")
    return user


def _citizens(rng: random.Random, count: int) -> list[Citizen]:
    existing = list(Citizen.objects.all()[:count])
    serial = 1000000 + Citizen.objects.count()
    while len(existing) < count:
        serial += 1
        national = f"04{rng.randint(1, 30):02d}{serial:07d}"
        if Citizen.objects.filter(national_number=national).exists():
            continue
        existing.append(
            Citizen.objects.create(
                national_number=national,
                first_name=rng.choice(FIRST_NAMES),
                father_name=rng.choice(FATHER_NAMES),
                last_name=rng.choice(LAST_NAMES),
                mother_name=rng.choice(MOTHER_NAMES),
                birth_date=dt.date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28)),
                phone=f"+9639{rng.randint(30, 99)}{rng.randint(100000, 999999)}",
            )
        )
    return existing


def _field_values(service: Service, citizen: Citizen, rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in service.fields.all():
        if field.type == FieldType.NATIONAL_NUMBER:
            values[field.name] = citizen.national_number
        elif field.type == FieldType.PHONE:
            values[field.name] = citizen.phone or "+963944000000"
        elif field.type == FieldType.DATE:
            values[field.name] = dt.date(2026, rng.randint(1, 10), rng.randint(1, 28)).isoformat()
        elif field.type == FieldType.NUMBER:
            values[field.name] = str(rng.randint(1, 500))
        elif field.type == FieldType.CHOICE:
            values[field.name] = str(rng.choice(field.choices)) if field.choices else ""
        else:
            values[field.name] = rng.choice(["جهة عامة", "مصرف", "جامعة البعث", "سفارة"])
    return values


def _pdf_stub() -> Any:
    from baladiya.core.uploads import CheckedUpload

    content = b"%PDF-1.4\n% demo attachment\n%%EOF\n"
    return CheckedUpload(
        content=content,
        content_type="application/pdf",
        sha256=hashlib.sha256(content).hexdigest(),
        name="id.pdf",
    )


def generate_demo(
    count: int = 300, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Create `count` applications spread over the neighbourhood and institutional centers."""
    from baladiya.documents.services import revoke_document
    from baladiya.payments import services as pay

    rng = random.Random(seed)
    centers = list(Center.objects.exclude(kind=Center.Kind.ELECTRONIC).order_by("code"))
    # A service with rules of its own (a water meter that must exist, a field visit) cannot
    # be filled with random values: the random demo leaves it out (applications.hooks).
    services = [
        s
        for s in Service.objects.filter(active=True).prefetch_related("fields", "attachments")
        if not hooks.has_rules(s.code)
    ]
    citizens = _citizens(rng, max(60, count // 3))
    officer = _officer()
    clerks = {c.pk: _staff(c, roles.CLERK) for c in centers}
    cashiers = {c.pk: _staff(c, roles.CASHIER) for c in centers}
    supervisor = User.objects.filter(groups__name=roles.SUPERVISOR, center__isnull=True).first()

    # Yesterday's drawers are closed (one short, one over); today's stay open.
    for center in centers:
        session = pay.open_session(cashiers[center.pk], 50000)
        if center.code in {"C01", "C02", "C03"}:
            pay.close_session(
                session, cashiers[center.pk], 50000 + (-500 if center.code == "C02" else 0)
            )
            pay.open_session(cashiers[center.pk], 50000)

    desk = _online_desk(services, clerks, supervisor or officer)

    tally: Tally[str] = Tally()
    delivered = 0
    states = [s for s, _ in TARGETS]
    weights = [w for _, w in TARGETS]
    for i in range(count):
        if i % ONLINE_EVERY == ONLINE_SLOT:
            tally[_online_application(desk, rng)] += 1
            tally["online"] += 1
            if progress:
                progress(i + 1)
            continue
        center = centers[i % len(centers)]
        service = rng.choice(services)
        citizen = rng.choice(citizens)
        target = rng.choices(states, weights)[0]
        clerk, cashier = clerks[center.pk], cashiers[center.pk]
        by_post = target in (Status.ISSUED, Status.DISPATCHED, Status.DELIVERED)
        mode = "post" if by_post and "post" in service.delivery_modes else "pickup"
        if mode not in service.delivery_modes:
            mode = service.delivery_modes[0]
        pickup = center if mode == "pickup" else None
        if pickup is not None and rng.random() < 0.15:  # collected nearer home, elsewhere
            pickup = rng.choice(centers)
        sub = apps.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields=_field_values(service, citizen, rng),
            delivery_mode=mode,
            pickup_center=pickup,
            delivery_address={"line": "شارع الحضارة، بناء 12", "neighbourhood": "الإنشاءات"}
            if mode == "post"
            else {},
            attachments={a.code: _pdf_stub() for a in service.attachments.all()},
        )
        app = apps.submit_application(clerk, sub)
        reviewer = clerk if service.approval == Service.Approval.COUNTER else officer
        pickup_clerk = clerks[pickup.pk] if pickup is not None else clerk
        staff = _Staff(clerk, cashier, reviewer, supervisor, pickup_clerk)
        final = _advance(app, target, staff, rng)
        tally[final] += 1
        if final in (Status.HANDED_OVER, Status.READY_FOR_PICKUP):
            delivered += 1
        # One document in twenty is revoked (a data error found later), so the verification
        # page and the revocation list have something to show.
        if final in (Status.HANDED_OVER, Status.READY_FOR_PICKUP) and delivered % 20 == 5:
            revoke_document(app.document, supervisor or officer, "خطأ في البيانات — أعيد إصداره")
            tally["revoked"] += 1
        if progress:
            progress(i + 1)
    _age_some(rng)
    tally.update(seed_status(rng))  # the directorate's center status page (centers.demo)
    # Water subscriptions and bills, through the sandbox water establishment's files.
    from baladiya.water.demo import seed_water_demo

    tally.update(seed_water_demo(citizens, cashiers, officer, seed))
    return dict(tally)


def _advance(
    app: Application,
    target: str,
    staff: _Staff,
    rng: random.Random,
) -> str:
    """Walk one application along the happy path until it reaches `target`."""
    from baladiya.delivery.services import hand_over
    from baladiya.documents.services import issue_document
    from baladiya.payments import services as pay

    clerk, cashier, reviewer, supervisor = (
        staff.clerk,
        staff.cashier,
        staff.reviewer,
        staff.supervisor,
    )
    if target == Status.SUBMITTED:
        return app.status
    if target == Status.CANCELLED and rng.random() < 0.5:
        apps.cancel(app, clerk, "طلب المواطن الإلغاء")
        return app.status
    pay.record_cash_payment(app, cashier)
    if target == Status.CANCELLED:
        pay.cancel_with_refund(app, cashier, "طلب المواطن الإلغاء واسترداد الرسم")
        return app.status
    if target == Status.PAID:
        return app.status
    apps.start_review(app, reviewer)
    if target == Status.IN_REVIEW:
        return app.status
    if target == Status.RETURNED:
        apps.return_for_correction(app, reviewer, "صورة الهوية غير واضحة")
        return app.status
    if target == Status.REJECTED:
        apps.reject(app, supervisor or reviewer, "الوثائق المقدمة لا تثبت الملكية")
        return app.status
    apps.approve(app, reviewer)
    if target == Status.APPROVED:
        return app.status
    issue_document(app, reviewer if reviewer.has_role(roles.OFFICER) else clerk)
    if target in (Status.ISSUED, Status.READY_FOR_PICKUP):
        return app.status
    if app.status == Status.ISSUED:  # by post
        return _post(app, target, clerk) if target in _BY_POST else app.status
    holder = app.applicant
    hand_over(app, staff.pickup_clerk, holder.full_name, "national_id", holder.national_number)
    return app.status


_BY_POST = (Status.DISPATCHED, Status.DELIVERED)


def _post(app: Application, target: str, clerk: User) -> str:
    """Send by post (the issuing center's clerk); for `delivered`, the sandbox post office
    delivers it, or one time in four brings it back to a center's pickup queue. Its events
    are taken directly here (the outbox is pumped only for online applications, so that the
    SMS of the last counter applications are still waiting in it)."""
    from baladiya.delivery.post import sandbox
    from baladiya.delivery.post.models import SandboxParcel
    from baladiya.delivery.post.services import dispatch, handle_postal_event

    shipment = dispatch(app, clerk)
    if target == Status.DISPATCHED:
        return app.status
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    own = random.Random(app.reference)  # deterministic, and leaves the demo's sequence alone
    outcome = "return" if own.random() < 0.25 else "deliver"
    for event in sandbox.advance(parcel, outcome, notify=False, rng=own):
        handle_postal_event(event)
    app.refresh_from_db()
    return app.status


def _carry(app: Application, outcome: str, rng: random.Random) -> str:
    """The sandbox post office delivers (or brings back) a dispatched parcel; its signed
    callbacks go through the outbox to our callback endpoint, as they would over HTTP."""
    from baladiya.delivery.post import sandbox
    from baladiya.delivery.post.models import SandboxParcel, Shipment

    shipment = Shipment.objects.get(application=app)
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    sandbox.advance(parcel, outcome, rng=rng)
    pump_outbox()
    app.refresh_from_db()
    return app.status


# ---------------------------------------------------------------- the outbox, in-process


def in_process_transport(url: str, body: str, headers: dict[str, str]) -> str:
    """`WEBHOOK_TRANSPORT` while the demo is generated: no web server runs yet, so each webhook
    is handed to the service behind the endpoint its URL names (the payment gateway's webhook,
    the post's callback), signature checks included. A refusal is retried, as a 4xx/5xx is."""
    from baladiya.delivery.post.interface import BadCallback
    from baladiya.delivery.post.services import receive_callback
    from baladiya.payments.gateways.services import handle_webhook

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        raise PermanentFailure(f"no such endpoint on this node: {url}") from None
    data = body.encode("utf-8")
    try:
        if match.view_name == "payments:gateway_webhook":
            return f"in-process {handle_webhook(match.kwargs['gateway'], headers, data)}"
        if match.view_name == "delivery:post_callback":
            return f"in-process {receive_callback(data, headers)}"
    except DomainError as exc:
        raise TransientFailure(f"{exc.code}: {exc.message}") from exc
    except BadCallback as exc:
        raise TransientFailure(str(exc)) from exc
    raise PermanentFailure(f"not a webhook endpoint: {url}")


def pump_outbox() -> int:
    """Deliver everything due (SMS to the sandbox gateway, webhooks in-process)."""
    from baladiya.notifications.services import deliver_due

    sent = 0
    with override_settings(WEBHOOK_TRANSPORT=f"{__name__}.in_process_transport"):
        for _ in range(50):  # failures are rescheduled later, so this ends; a bound anyway
            tally = deliver_due(limit=500)
            sent += tally.sent
            if not tally.handled:
                break
    return sent


# ---------------------------------------------------------------- the electronic center

ONLINE_EVERY, ONLINE_SLOT = 5, 2  # applications 2, 7, 12 … (the last ones stay at counters)
LATE_WEBHOOK_SECONDS = 2 * 3600
# What happens to each online application: every plan once first (so a small demo shows them
# all), then drawn by weight. `confirming`: paid at the gateway, whose webhook is late (the
# background pump or its payment sweep records it once the node runs): once only.
ONLINE_PLANS: list[tuple[str, int]] = [
    ("unpaid", 5),
    ("declined", 2),  # the gateway declined the card: still awaiting payment
    ("confirming", 0),
    ("paid", 8),
    ("in_review", 8),
    ("returned", 4),
    ("rejected", 3),
    ("approved", 4),
    ("ready_for_pickup", 10),  # waits at the center chosen in advance
    ("handed_over", 16),
    ("issued_post", 4),  # printed, on the back office's dispatch list
    ("dispatched", 6),
    ("delivered", 12),
    ("returned_to_center", 4),  # the post brought it back: a center's pickup queue
    ("cancelled", 2),  # before paying
    ("cancelled_refunded", 3),  # paid online: refunded through the gateway
]
BY_POST = frozenset({"issued_post", "dispatched", "delivered", "returned_to_center"})
STREETS = [
    "شارع الحضارة، بناء 12",
    "شارع الدبلان، بناء 4",
    "شارع الغوطة، بناء 31",
    "حي الملعب، بناء 7",
]


@dataclass
class _Desk:
    """Who and what the online applications need."""

    accounts: list[User]  # citizen portal accounts
    services: list[Service]
    pickup_centers: list[Center]
    neighbourhoods: list[Neighbourhood]
    clerks: dict[Any, User]  # by center pk: hands documents over
    officers: dict[Any, User]  # by agency pk, else the general officer (key None)
    supervisor: User
    done: int = 0

    def officer_for(self, service: Service) -> User:
        return self.officers.get(service.agency_id) or self.officers[None]


def _online_desk(services: list[Service], clerks: dict[Any, User], supervisor: User) -> _Desk:
    from baladiya.accounts.permissions import citizen_of

    accounts = [
        u
        for u in User.objects.filter(citizen__isnull=False, is_active=True).order_by("username")
        if citizen_of(u) is not None
    ]
    if not accounts:
        raise RuntimeError("the demo needs citizen accounts: run `seed homs --demo`")
    officers: dict[Any, User] = {}
    for user in User.objects.filter(groups__name=roles.OFFICER, is_active=True).order_by("pk"):
        officers.setdefault(user.agency_id, user)
    officers.setdefault(None, _officer())
    return _Desk(
        accounts=accounts,
        services=services,
        pickup_centers=[
            c
            for c in Center.objects.filter(active=True, accepts_pickup=True).order_by("code")
            if c.pk in clerks
        ],
        neighbourhoods=list(Neighbourhood.objects.order_by("name_ar")),
        clerks=clerks,
        officers=officers,
        supervisor=supervisor,
    )


def _online_application(desk: _Desk, rng: random.Random) -> str:
    """One application made on the portal by a demo citizen, taken as far as its plan says."""
    from baladiya.portal.services import apply_online

    if desk.done < len(ONLINE_PLANS):
        plan = ONLINE_PLANS[desk.done][0]
    else:
        plan = rng.choices([p for p, _ in ONLINE_PLANS], [w for _, w in ONLINE_PLANS])[0]
    desk.done += 1
    mode = DeliveryMode.POST if plan in BY_POST else DeliveryMode.PICKUP
    service = rng.choice([s for s in desk.services if mode in s.delivery_modes])
    user = rng.choice(desk.accounts)
    citizen: Citizen = user.citizen  # type: ignore[assignment]
    address: dict[str, Any] = {}
    pickup = None
    if mode == DeliveryMode.POST:
        hood = rng.choice(desk.neighbourhoods)
        address = {
            "line": rng.choice(STREETS),
            "neighbourhood": hood.name_ar,
            "phone": citizen.phone,
        }
    else:
        pickup = rng.choice(desk.pickup_centers)
    app = apply_online(
        user,
        service,
        fields=_field_values(service, citizen, rng),
        delivery_mode=mode,
        pickup_center=pickup,
        delivery_address=address,
        attachments={a.code: _pdf_stub() for a in service.attachments.all()},
        token=uuid.uuid4().hex,
    )
    _online_steps(app, plan, user, desk, rng)
    app.refresh_from_db()
    return app.status


def _online_steps(app: Application, plan: str, user: User, desk: _Desk, rng: random.Random) -> None:
    from baladiya.delivery.post.services import dispatch
    from baladiya.delivery.services import hand_over
    from baladiya.documents.services import issue_document
    from baladiya.payments import services as pay

    if plan == "unpaid":
        return
    if plan == "cancelled":
        apps.cancel(app, desk.supervisor, "طلب المواطن الإلغاء قبل الدفع")
        return
    if plan in ("declined", "confirming"):
        _pay_online(
            app, user, "decline" if plan == "declined" else "pay", late=plan == "confirming"
        )
        return
    _pay_online(app, user, "pay")
    if plan == "paid":
        return
    if plan == "cancelled_refunded":
        pay.cancel_with_refund(app, desk.supervisor, "تعذر تقديم الخدمة، أعيد الرسم إلكترونياً")
        pump_outbox()  # the gateway's refund notice: already recorded on our side
        return
    officer = desk.officer_for(app.service)
    apps.start_review(app, officer)
    if plan == "in_review":
        return
    if plan == "returned":
        apps.return_for_correction(app, officer, "صورة الهوية غير واضحة")
        return
    if plan == "rejected":
        apps.reject(app, officer, "البيانات المدخلة لا تطابق السجل")
        return
    apps.approve(app, officer)
    if plan == "approved":
        return
    issue_document(app, officer)  # a pickup goes to the chosen center's queue
    if plan in ("ready_for_pickup", "issued_post"):
        return
    if plan == "handed_over":
        holder = app.applicant
        clerk = desk.clerks[app.pickup_center_id]
        hand_over(app, clerk, holder.full_name, "national_id", holder.national_number)
        return
    dispatch(app, officer)
    if plan == "dispatched":
        return
    _carry(app, "return" if plan == "returned_to_center" else "deliver", rng)


def _pay_online(app: Application, user: User, action: str, *, late: bool = False) -> None:
    """The citizen pays at the sandbox gateway's hosted page (`action`: pay or decline); the
    gateway's signed webhook comes back through the outbox (late: hours later)."""
    from baladiya.payments.gateways import sandbox
    from baladiya.payments.gateways.services import refresh_intent, start_online_payment

    back = reverse("portal:application", kwargs={"reference": app.reference})
    intent = start_online_payment(app, user, return_url=back).intent
    if late:
        with override_settings(SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS=LATE_WEBHOOK_SECONDS):
            sandbox.act(intent.gateway_payment_id, action)
        return
    sandbox.act(intent.gateway_payment_id, action)
    pump_outbox()
    intent.refresh_from_db()
    if action == "pay" and intent.receipt_id is None:  # another pump took the webhook
        refresh_intent(intent, expire=False)
    app.refresh_from_db()


def _age_some(rng: random.Random) -> None:
    """Backdate a few open applications so the overdue list has something in it."""
    today = timezone.localdate()
    open_apps = list(
        Application.objects.filter(
            status__in=[Status.PAID, Status.IN_REVIEW, Status.RETURNED]
        ).values_list("pk", flat=True)
    )
    for pk in rng.sample(open_apps, min(len(open_apps), 15)):
        with transaction.atomic():
            Application.objects.filter(pk=pk).update(
                sla_due=today - dt.timedelta(days=rng.randint(1, 9))
            )
