"""Our side of the post: dispatch a printed document, take the carrier's events, list the day.

    dispatch(app, actor) -> Shipment          issued -> dispatched, tracking number from the post
    handle_postal_event(event) -> outcome     dispatched -> delivered | ready_for_pickup (returned)
    receive_callback(body, headers) -> ...    the signed callback: check, then handle_postal_event
    sync_tracking(shipment)                   ask the carrier again (callbacks lost)
    return_center(app) -> Center              where a returned document waits for its holder

Events are idempotent (the same carrier event id twice changes nothing) and out-of-order safe:
the first final event (delivered or returned) closes the shipment; a later contradicting one is
kept in the history, audited as a conflict, and changes nothing (a `delivered` after the
document came back never "resurrects" the shipment). Older progress events never overwrite
newer ones. Every change is audited; the application's own steps go through
`applications.services.move()` (history, audit, SMS to the applicant).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import require_role, require_transition
from baladiya.applications import services as applications
from baladiya.applications.models import Application, Channel
from baladiya.applications.workflow import Status, check_transition, transition
from baladiya.catalog.models import DeliveryMode, Service
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed, NotFound
from baladiya.core.text import normalize_arabic
from baladiya.delivery.post.interface import (
    FINAL_KINDS,
    EventKind,
    Parcel,
    PostalError,
    PostalEvent,
    postal_service,
)
from baladiya.delivery.post.models import Shipment, ShipmentEvent

logger = logging.getLogger(__name__)
Outcome = ShipmentEvent.Outcome
DUPLICATE = "duplicate"  # not stored: the event was already there


# ---------------------------------------------------------------- who handles which post


def dispatch_scope(user: User) -> QuerySet[Application]:
    """Applications whose documents `user` may send by post (the same rule as the `dispatch`
    transition in `accounts.permissions`): officers the back office's work of their agency
    (back-office services and online applications), clerks their center's counter
    applications, admins everything."""
    qs = Application.objects.select_related("service", "applicant", "center")
    if user.has_role(roles.ADMIN):
        return qs
    back_office = Q(service__approval=Service.Approval.BACK_OFFICE) | Q(channel=Channel.ONLINE)
    allowed = Q(pk__in=[])
    if user.has_role(roles.OFFICER):
        if user.agency_id is None:
            allowed |= back_office
        else:
            allowed |= back_office & Q(service__agency_id=user.agency_id)
    if user.has_role(roles.CLERK) and user.center_id:
        allowed |= Q(channel=Channel.COUNTER, center_id=user.center_id)
    return qs.filter(allowed)


def require_post_desk(user: object) -> User:
    """The dispatch pages: officers, clerks with a center, admins."""
    staff = require_role(user, roles.OFFICER, roles.CLERK, roles.ADMIN)
    if not staff.has_role(roles.OFFICER, roles.ADMIN) and staff.center_id is None:
        raise NotAllowed(_("Your account is not attached to a center. Ask an administrator."))
    return staff


def awaiting_dispatch(user: User) -> QuerySet[Application]:
    """Documents issued for delivery by post and not sent yet, the oldest first."""
    return (
        dispatch_scope(user)
        .filter(status=Status.ISSUED, delivery_mode=DeliveryMode.POST)
        .annotate(document_number=F("document__number"), issued_at=F("document__issued_at"))
        .order_by(F("issued_at").asc(nulls_first=True), "reference")
    )


def dispatched_on(user: User, day: dt.date) -> QuerySet[Shipment]:
    """Shipments handed to the post on `day` (local date), by tracking number."""
    return (
        Shipment.objects.filter(dispatch_date=day, application__in=dispatch_scope(user))
        .select_related("application", "application__service", "application__document", "center")
        .order_by("tracking_number")
    )


# ---------------------------------------------------------------- dispatch


def _already_dispatched(app: Application) -> Conflict:
    number = Shipment.objects.filter(application_id=app.pk).values_list(
        "tracking_number", flat=True
    )
    return Conflict(
        _("Application %(ref)s was already sent by post (tracking number %(number)s).")
        % {"ref": app.reference, "number": number.first() or ""},
        code="already_dispatched",
    )


def _document_number(app: Application) -> str:
    from baladiya.documents.models import IssuedDocument

    doc = IssuedDocument.objects.filter(application_id=app.pk).values("number", "state").first()
    if doc is None:
        raise DomainError(_("This application has no issued document to send."), code="no_document")
    if doc["state"] == IssuedDocument.State.REVOKED:
        raise DomainError(_("This document was revoked: it must not be sent."), code="revoked")
    return str(doc["number"])


def _parcel(app: Application, document_number: str) -> Parcel:
    address = app.delivery_address or {}
    line = str(address.get("line", "") or "").strip()
    if app.delivery_mode != DeliveryMode.POST:
        raise DomainError(_("This document is not delivered by post."), code="not_post")
    if not line:
        raise DomainError(_("The application has no postal address."), code="no_address")
    return Parcel(
        reference=app.reference,
        recipient_name=app.applicant.full_name,
        phone=str(address.get("phone", "") or app.applicant.phone or ""),
        address_line=line,
        neighbourhood=str(address.get("neighbourhood", "") or ""),
        sender=f"مجلس مدينة حمص — {app.service.agency.name_ar}",
        document_number=document_number,
    )


def dispatch(app: Application, actor: User) -> Shipment:
    """Send the printed document of an issued post application (transition `dispatch`).

    Who: a clerk of the issuing center for counter applications, an officer of the service's
    agency for the back office's work (online applications, back-office services), an admin.
    Refused: not issued, not by post, no address, document revoked, already sent (`Conflict`,
    nothing changes). The carrier registers the parcel first (idempotent on our reference, so a
    retry gets the same tracking number), then in one transaction: `Shipment`, application
    `issued -> dispatched` (history with the tracking number, SMS, audit), audit
    `post.dispatched`.
    """
    if Shipment.objects.filter(application_id=app.pk).exists():
        raise _already_dispatched(app)
    check_transition("dispatch", app.status)
    require_transition(actor, app, transition("dispatch"))
    parcel = _parcel(app, _document_number(app))
    try:
        carrier = postal_service()
        number = carrier.dispatch(parcel)
    except PostalError as exc:
        logger.warning("postal service refused %s: %s", app.reference, exc)
        raise DomainError(
            _("The postal service did not take the parcel (%(reason)s). Nothing was changed.")
            % {"reason": str(exc)},
            code="postal_error",
        ) from exc
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=app.pk)
        if Shipment.objects.filter(application_id=app.pk).exists():
            raise _already_dispatched(app)
        check_transition("dispatch", locked.status)
        shipment = Shipment.objects.create(
            application=app,
            carrier=carrier.code,
            tracking_number=number,
            center=app.center,
            dispatched_by=actor,
            dispatch_date=timezone.localdate(),
            recipient_name=parcel.recipient_name,
            address=dict(app.delivery_address or {}),
        )
        applications.move(
            app,
            "dispatch",
            actor,
            _("Tracking number %(number)s") % {"number": number},
            tracking_number=number,
        )
        audit.record(
            "post.dispatched",
            actor=actor,
            obj=shipment,
            center=app.center.code,
            reference=app.reference,
            tracking_number=number,
            carrier=carrier.code,
            document=parcel.document_number,
        )
    return shipment


@dataclass
class BatchResult:
    sent: list[Shipment]
    refused: list[tuple[str, str]]  # (reference, message)


def dispatch_many(references: list[str], actor: User) -> BatchResult:
    """Dispatch several applications (the dispatch list's checkboxes); each one on its own,
    so one refusal does not stop the others."""
    result = BatchResult([], [])
    scope = dispatch_scope(actor)
    for reference in dict.fromkeys(r.strip().upper() for r in references if r.strip()):
        app = scope.filter(reference=reference).first()
        if app is None:
            result.refused.append((reference, _("No such application in your dispatch list.")))
            continue
        try:
            result.sent.append(dispatch(app, actor))
        except DomainError as exc:
            result.refused.append((reference, str(exc.message)))
    return result


# ---------------------------------------------------------------- where returns go


def _neighbourhood(value: object) -> Neighbourhood | None:
    text = str(value or "").strip()
    if not text:
        return None
    found = Neighbourhood.objects.filter(
        Q(name_normalized=normalize_arabic(text)) | Q(name_en__iexact=text)
    ).first()
    return found


def return_center(app: Application) -> Center:
    """The center where a document the post brought back waits for its holder.

    The rule, first match wins (only active centers that accept pickups):
    1. the pickup center recorded on the application;
    2. the center serving the neighbourhood of the postal address (lowest code if several);
    3. the center that issued the application (not C00, the electronic center, which has no
       counter);
    4. the lowest-coded center of the network.
    """
    pickups = Center.objects.filter(active=True, accepts_pickup=True).order_by("code")
    if app.pickup_center_id:
        chosen = pickups.filter(pk=app.pickup_center_id).first()
        if chosen is not None:
            return chosen
    hood = _neighbourhood((app.delivery_address or {}).get("neighbourhood"))
    if hood is not None:
        chosen = pickups.filter(neighbourhoods=hood).first()
        if chosen is not None:
            return chosen
    chosen = pickups.filter(pk=app.center_id).first() or pickups.first()
    if chosen is None:
        raise DomainError(_("No center accepts pickups: the returned document has nowhere to go."))
    return chosen


# ---------------------------------------------------------------- events from the post


def handle_postal_event(event: PostalEvent) -> str:
    """Take one carrier event (already authenticated): `applied`, `recorded` (kept in the
    history only), `ignored` (the shipment was already closed) or `duplicate` (seen before).

    Raises `NotFound` for an unknown tracking number (the carrier retries later).
    """
    with transaction.atomic():
        shipment = (
            Shipment.objects.select_for_update()
            .filter(tracking_number=event.tracking_number.upper())
            .first()
        )
        if shipment is None:
            raise NotFound(_("No shipment with this tracking number."), code="unknown_tracking")
        if shipment.events.filter(event_id=event.event_id).exists():
            return DUPLICATE
        try:
            with transaction.atomic():  # savepoint: a twin racing past the check above
                row = ShipmentEvent.objects.create(
                    shipment=shipment,
                    event_id=event.event_id,
                    kind=event.kind,
                    occurred_at=event.occurred_at,
                    location=event.location[:200],
                    detail=event.detail[:300],
                    outcome=Outcome.RECORDED,
                )
        except IntegrityError:
            return DUPLICATE
        outcome = _apply(shipment, event)
        if outcome != Outcome.RECORDED:
            ShipmentEvent.objects.filter(pk=row.pk).update(outcome=outcome)
        audit.record(
            "post.event",
            actor=f"post:{shipment.carrier}",
            obj=shipment,
            center=shipment.center.code,
            tracking_number=shipment.tracking_number,
            event_id=event.event_id,
            kind=event.kind,
            occurred_at=event.occurred_at.isoformat(),
            outcome=str(outcome),
            shipment_state=shipment.state,
        )
    return str(outcome)


def _apply(shipment: Shipment, event: PostalEvent) -> str:
    newer = shipment.last_event_at is None or event.occurred_at >= shipment.last_event_at
    if event.kind not in FINAL_KINDS:
        if shipment.is_open and newer:
            shipment.last_event, shipment.last_event_at = event.kind, event.occurred_at
            shipment.save(update_fields=["last_event", "last_event_at"])
        return Outcome.RECORDED
    if not shipment.is_open:
        if shipment.state != _closing_state(event.kind):
            audit.record(
                "post.event_conflict",
                actor=f"post:{shipment.carrier}",
                obj=shipment,
                center=shipment.center.code,
                tracking_number=shipment.tracking_number,
                state=shipment.state,
                late_kind=event.kind,
                event_id=event.event_id,
            )
            logger.warning(
                "post: %s %s after the shipment was %s: ignored",
                shipment.tracking_number,
                event.kind,
                shipment.state,
            )
        return Outcome.IGNORED
    app = Application.objects.select_related("center").get(pk=shipment.application_id)
    if app.status != Status.DISPATCHED:  # never expected: the shipment and the app disagree
        logger.error("post: %s is %s, not dispatched", app.reference, app.status)
        return Outcome.IGNORED
    shipment.last_event, shipment.last_event_at = event.kind, event.occurred_at
    shipment.closed_at = event.occurred_at
    if event.kind == EventKind.DELIVERED:
        shipment.state = Shipment.State.DELIVERED
        shipment.save(update_fields=["state", "last_event", "last_event_at", "closed_at"])
        note = _("Delivered by the post (%(number)s)") % {"number": shipment.tracking_number}
        applications.move(
            app,
            "deliver",
            None,
            note,
            check_permission=False,
            tracking_number=shipment.tracking_number,
        )
        return Outcome.APPLIED
    center = return_center(app)
    shipment.state = Shipment.State.RETURNED
    shipment.returned_to = center
    shipment.save(
        update_fields=["state", "returned_to", "last_event", "last_event_at", "closed_at"]
    )
    # The document now waits at that center: its pickup queue lists it, its clerk hands it over.
    Application.objects.filter(pk=app.pk).update(pickup_center=center)
    app.pickup_center = center
    note = _("Returned by the post (%(reason)s); it waits at %(center)s.") % {
        "reason": event.detail or _("not delivered"),
        "center": f"{center.code} {center.name_ar}",
    }
    applications.move(
        app,
        "return_to_sender",
        None,
        note,
        check_permission=False,
        tracking_number=shipment.tracking_number,
        pickup_center=center.code,
    )
    return Outcome.APPLIED


def _closing_state(kind: str) -> str:
    return Shipment.State.DELIVERED if kind == EventKind.DELIVERED else Shipment.State.RETURNED


def receive_callback(body: bytes, headers: Mapping[str, str]) -> str:
    """The carrier's callback: the adapter checks its signature and reads the event (raises
    `BadCallback`), then `handle_postal_event`."""
    event = postal_service().parse_callback(body, headers)
    return handle_postal_event(event)


def sync_tracking(shipment: Shipment) -> list[str]:
    """Ask the carrier for every event of this shipment and take the ones we missed."""
    try:
        events = postal_service().track(shipment.tracking_number)
    except PostalError as exc:
        raise DomainError(
            _("The postal service could not be asked (%(reason)s).") % {"reason": str(exc)},
            code="postal_error",
        ) from exc
    return [handle_postal_event(e) for e in sorted(events, key=lambda e: e.occurred_at)]
