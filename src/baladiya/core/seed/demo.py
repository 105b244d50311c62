"""A lived-in demo: a few hundred applications in every state across the Homs centers.

Everything goes through the real service functions (numbers, receipts, documents, audit), so
the demo is also a smoke test of the whole counter flow. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import FieldType, Service
from baladiya.centers.models import Center

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
    services = list(Service.objects.filter(active=True).prefetch_related("fields", "attachments"))
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

    tally: Tally[str] = Tally()
    delivered = 0
    states = [s for s, _ in TARGETS]
    weights = [w for _, w in TARGETS]
    for i in range(count):
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
    delivers it, or one time in four brings it back to a center's pickup queue. The events are
    taken directly (no callback through the outbox: the demo has no web server yet)."""
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
