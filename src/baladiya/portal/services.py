"""What the citizen portal reads and writes, on top of the other apps' services.

The portal owns no table. Applying goes through `applications.services.submit_application`
(channel `online`, center C00, the electronic center); a citizen sees only applications whose
applicant is their own citizen record (`accounts.permissions.can_view_application`); the
status lookup without login is rate limited and answers "not found" the same way for a
wrong reference and a wrong mobile number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import ratelimit
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import can_view_application, citizen_of
from baladiya.applications import services as applications
from baladiya.applications.models import Application, ApplicationEvent, Channel
from baladiya.applications.workflow import Status
from baladiya.catalog.models import DeliveryMode, Fee, Service
from baladiya.centers import services as centers
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, NotAllowed, NotFound
from baladiya.core.text import normalize_arabic
from baladiya.core.uploads import CheckedUpload
from baladiya.delivery.models import Handover, Shipment, ShipmentEvent
from baladiya.documents.models import IssuedDocument
from baladiya.payments.models import Receipt

TRACK_IP_SCOPE = "track-ip"
TRACK_REF_SCOPE = "track-ref"
TRACK_PHONE_SCOPE = "track-phone"
# History notes a citizen reads: what to correct, why it was refused or cancelled. Other notes
# (an approval remark, a counter note) are the staff's own.
CITIZEN_NOTES = frozenset({"return", "reject", "cancel", "cancel_with_refund"})


class TrackThrottled(DomainError):
    status = 429
    code = "track_throttled"


# ---------------------------------------------------------------- catalog


def active_services() -> QuerySet[Service]:
    return (
        Service.objects.filter(active=True)
        .select_related("agency")
        .prefetch_related(
            "fields", "attachments", Prefetch("fees", queryset=Fee.objects.order_by("valid_from"))
        )
    )


def _search_text(svc: Service) -> str:
    parts = (
        svc.code,
        svc.name_ar,
        svc.name_en,
        svc.description_ar,
        svc.description_en,
        svc.agency.name_ar,
        svc.agency.name_en,
    )
    return normalize_arabic(" ".join(parts))


def search_services(query: str) -> list[Service]:
    """Active services whose names, description or agency contain every word of `query`,
    compared in the normalized form (hamza and alef forms, ta marbuta, diacritics, digits).
    The catalog is small (tens of services): filtering in Python keeps one normalizer."""
    words = normalize_arabic(query).split()[:8]
    found = list(active_services())
    if words:
        found = [s for s in found if all(w in _search_text(s) for w in words)]
    return found


def fees_today(svc: Service) -> list[Fee]:
    today = timezone.localdate()
    return [f for f in svc.fees.all() if f.applies_on(today)]


def pickup_centers() -> QuerySet[Center]:
    """Centers that hand documents over (not the electronic center itself)."""
    return (
        Center.objects.filter(active=True, accepts_pickup=True)
        .exclude(kind=Center.Kind.ELECTRONIC)
        .order_by("code")
    )


def electronic_center() -> Center:
    return centers.electronic_center(
        _("The electronic center is not set up yet. Please apply at a service center.")
    )


# ---------------------------------------------------------------- applying


def idempotency_key(user: User, token: str) -> str:
    """Per account, so one citizen's form token can never return another's application."""
    return f"portal:{user.pk}:{token}"


def apply_online(
    user: User,
    service: Service,
    *,
    fields: dict[str, Any],
    delivery_mode: str,
    pickup_center: Center | None,
    delivery_address: dict[str, Any],
    attachments: dict[str, CheckedUpload],
    token: str,
) -> Application:
    """Submit an application for the logged-in citizen through the electronic center.

    Idempotent per form token (a double-clicked submit returns the first application).
    Side effects: those of `submit_application` (history, audit, status SMS).
    """
    citizen = citizen_of(user)
    if citizen is None:
        raise NotAllowed(_("Complete your profile before applying."))
    return applications.submit_application(
        user,
        applications.Submission(
            service=service,
            applicant=citizen,
            center=electronic_center(),
            fields=fields,
            delivery_mode=delivery_mode,
            pickup_center=pickup_center if delivery_mode == DeliveryMode.PICKUP else None,
            delivery_address=delivery_address if delivery_mode == DeliveryMode.POST else {},
            attachments=attachments,
            channel=Channel.ONLINE,
            idempotency_key=idempotency_key(user, token),
        ),
    )


# ---------------------------------------------------------------- a citizen's applications


def applications_of(citizen: Citizen) -> QuerySet[Application]:
    return (
        Application.objects.filter(applicant=citizen)
        .select_related("service", "pickup_center")
        .order_by("-created_at")
    )


def application_for(user: User, reference: str) -> Application:
    """The citizen's own application; NotFound for another's or an unknown reference alike."""
    app = (
        Application.objects.select_related("service", "applicant", "center", "pickup_center")
        .filter(reference=reference.strip().upper())
        .first()
    )
    if app is None or citizen_of(user) is None or not can_view_application(user, app):
        raise NotFound(_("No application of yours has this reference."))
    return app


def amount_due(app: Application) -> int:
    """What is left to pay: the fee snapshot until the payment is recorded."""
    if app.status != Status.SUBMITTED:
        return 0
    paid = sum(r.amount for r in app.receipts.all())  # type: ignore[attr-defined]
    return max(0, app.fee_amount - paid)


@dataclass(frozen=True)
class HistoryRow:
    at: Any
    status: str
    status_label: str
    note: str


def citizen_history(app: Application, *, with_notes: bool = True) -> list[HistoryRow]:
    """Status changes as a citizen sees them: no staff names, only the notes meant for them."""
    rows = []
    for event in ApplicationEvent.objects.filter(application=app).order_by("created_at", "id"):
        try:
            label = str(Status(event.to_status).label)
        except ValueError:  # a state added by another app's workflow
            label = event.to_status
        note = event.note if with_notes and event.action in CITIZEN_NOTES else ""
        rows.append(HistoryRow(event.created_at, event.to_status, label, note))
    return rows


def receipts_of(app: Application) -> list[Receipt]:
    return list(Receipt.objects.filter(application=app).order_by("issued_at"))


def receipt_for(user: User, reference: str, number: str) -> Receipt:
    app = application_for(user, reference)
    receipt = (
        Receipt.objects.select_related("center", "application__service", "issued_by")
        .filter(application=app, number=number.strip().upper())
        .first()
    )
    if receipt is None:
        raise NotFound(_("No receipt of yours has this number."))
    return receipt


def document_of(app: Application) -> IssuedDocument | None:
    try:
        doc: IssuedDocument = app.document  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return None
    return doc


def downloadable_document(user: User, reference: str) -> IssuedDocument:
    """The signed PDF, if the service lets citizens download it and it was not revoked."""
    app = application_for(user, reference)
    doc = document_of(app)
    if doc is None or not app.service.citizen_download:
        raise NotFound(_("This document cannot be downloaded here; collect it as chosen."))
    if doc.state != IssuedDocument.State.VALID:
        raise NotFound(_("This document was revoked. Contact the council."))
    return doc


# ---------------------------------------------------------------- receiving the document


@dataclass(frozen=True)
class DeliveryProgress:
    """Where the document stands on its way to the citizen (the application page's card)."""

    center: Center | None  # the pickup center (chosen, or where a returned parcel waits)
    center_name: str
    ready: bool  # waiting at `center` for its holder
    handover: Handover | None
    shipment: Shipment | None
    events: list[ShipmentEvent]  # the post's events, oldest first

    @property
    def shown(self) -> bool:
        return bool(self.ready or self.handover or self.shipment)


def delivery_progress(app: Application, language: str) -> DeliveryProgress:
    """The pickup center and whether the document waits there or was handed over; for the
    post, the shipment (tracking number, state) and the events the carrier reported. Events
    kept for the record only (`ignored`: after the shipment was closed) are left out."""
    shipment = Shipment.objects.filter(application=app).first()
    events = (
        list(
            ShipmentEvent.objects.filter(shipment=shipment)
            .exclude(outcome=ShipmentEvent.Outcome.IGNORED)
            .order_by("occurred_at", "created_at")
        )
        if shipment is not None
        else []
    )
    handover = (
        Handover.objects.select_related("center").filter(application=app).first()
        if app.status == Status.HANDED_OVER
        else None
    )
    center = handover.center if handover is not None else app.pickup_center
    return DeliveryProgress(
        center=center,
        center_name=center.display_name(language) if center is not None else "",
        ready=app.status == Status.READY_FOR_PICKUP and center is not None,
        handover=handover,
        shipment=shipment,
        events=events,
    )


# ---------------------------------------------------------------- status lookup


def track(reference: str, phone: str, ip: str) -> Application | None:
    """The application with this reference whose applicant has this mobile, else None (one
    answer for both mistakes). Failed lookups count per address, per reference typed and per
    mobile typed (who knows a number must not walk references from many addresses); over
    `TRACK_RATE_LIMIT` in `TRACK_RATE_WINDOW_SECONDS` the lookup refuses to run."""
    reference = reference.strip().upper()[:24]
    phone = phone.strip()[:24]
    limit, window = settings.TRACK_RATE_LIMIT, settings.TRACK_RATE_WINDOW_SECONDS
    wait = max(
        ratelimit.wait_seconds(TRACK_IP_SCOPE, ip, limit, window),
        ratelimit.wait_seconds(TRACK_REF_SCOPE, reference, limit, window),
        ratelimit.wait_seconds(TRACK_PHONE_SCOPE, phone, limit, window),
    )
    if wait:
        raise TrackThrottled(ratelimit.minutes_message(wait))
    app = (
        Application.objects.select_related("service", "pickup_center")
        .filter(reference=reference, applicant__phone=phone)
        .first()
    )
    if app is None:
        with transaction.atomic():
            ratelimit.hit(TRACK_IP_SCOPE, ip)
            ratelimit.hit(TRACK_REF_SCOPE, reference)
            ratelimit.hit(TRACK_PHONE_SCOPE, phone)
    return app
