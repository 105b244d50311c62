"""Hand-over of a document at its pickup center, and the queue of documents waiting there.

`hand_over` is the only way an application reaches `handed_over`: it checks the identity
document the recipient shows, records a `Handover`, moves the application and audits it, all in
one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts.models import User
from baladiya.accounts.permissions import require_transition
from baladiya.applications import services as applications
from baladiya.applications.models import Application, ApplicationEvent
from baladiya.applications.workflow import Status, check_transition, transition
from baladiya.centers.models import Center
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError
from baladiya.core.money import to_latin_digits
from baladiya.core.text import normalize_arabic
from baladiya.delivery.models import Handover, IdKind

# An applicant proves who they are with their own papers; anyone else needs a mandate.
APPLICANT_ID_KINDS = frozenset({IdKind.NATIONAL_ID, IdKind.PASSPORT, IdKind.FAMILY_BOOK})
REPRESENTATIVE_ID_KINDS = frozenset({IdKind.POWER_OF_ATTORNEY, IdKind.FAMILY_BOOK})


def clean_id_number(raw: str) -> str:
    """Arabic digits to Latin, spaces and dashes out, letters upper-cased (passports)."""
    text = to_latin_digits(str(raw or "")).strip().upper()
    return "".join(ch for ch in text if ch not in " -/")


def _check_identity(
    app: Application, recipient_name: str, id_kind: str, id_number: str, is_applicant: bool
) -> None:
    """The identity check a clerk makes before a document leaves the council's hands."""
    if id_kind not in IdKind.values:
        raise DomainError(_("Choose the kind of identity document shown."), code="id_kind")
    if not id_number:
        raise DomainError(_("Enter the number of the identity document shown."), code="id_number")
    if len(id_number) > 40:
        raise DomainError(_("This identity document number is too long."), code="id_number")
    if not recipient_name:
        raise DomainError(_("Enter the name of the person collecting the document."))
    if is_applicant:
        if id_kind not in APPLICANT_ID_KINDS:
            raise DomainError(
                _("The applicant identifies with their ID card, passport or family book."),
                code="id_kind",
            )
        if id_kind == IdKind.NATIONAL_ID and id_number != app.applicant.national_number:
            raise DomainError(
                _(
                    "The ID card number does not match the applicant's national number. "
                    "The document was not handed over."
                ),
                code="id_mismatch",
            )
    elif id_kind not in REPRESENTATIVE_ID_KINDS:
        raise DomainError(
            _("Someone other than the applicant must show a power of attorney or the family book."),
            code="id_kind",
        )


def _already_handed_over(app: Application) -> Conflict:
    handover = Handover.objects.filter(application=app).first()
    if handover is None:
        return Conflict(_("This document was already handed over."), code="already_handed_over")
    when = timezone.localtime(handover.created_at)
    return Conflict(
        _("This document was already handed over to %(name)s on %(date)s.")
        % {"name": handover.recipient_name, "date": when.strftime("%Y-%m-%d %H:%M")},
        code="already_handed_over",
    )


def _check_not_revoked(app: Application) -> None:
    from baladiya.documents.models import IssuedDocument

    if IssuedDocument.objects.filter(application=app, state=IssuedDocument.State.REVOKED).exists():
        raise DomainError(
            _("This document was revoked: it must not be handed over."), code="revoked"
        )


def hand_over(
    app: Application,
    actor: User,
    recipient_name: str,
    id_kind: str,
    id_number: str,
    is_applicant: bool = True,
) -> Handover:
    """Give the document of `app` (ready for pickup) to the person at the counter.

    Only a clerk of the application's pickup center may do it (`accounts.permissions`).
    When the recipient is the applicant showing a national ID card, the card's number must be
    the applicant's national number; a representative shows a power of attorney or the family
    book. A second attempt (double submit) raises `Conflict` and changes nothing.
    Side effects: `Handover` row, status `handed_over` (history + audit), audit event
    `delivery.handed_over`.
    """
    number = clean_id_number(id_number)
    name = " ".join(str(recipient_name or "").split())[:200]
    with transaction.atomic():
        locked = applications.lock(app)
        require_transition(actor, locked, transition("hand_over"))
        if locked.status == Status.HANDED_OVER:
            raise _already_handed_over(locked)
        check_transition("hand_over", locked.status)
        if locked.pickup_center is None:
            raise DomainError(_("This application is not delivered at a center."))
        if is_applicant and not name:
            name = locked.applicant.full_name
        _check_identity(locked, name, id_kind, number, is_applicant)
        _check_not_revoked(locked)
        handover = Handover.objects.create(
            application=locked,
            center=locked.pickup_center,
            handed_by=actor,
            recipient_name=name,
            id_kind=id_kind,
            id_number=number,
            is_applicant=is_applicant,
        )
        applications.move(
            locked,
            "hand_over",
            actor,
            "" if is_applicant else str(_("Collected by %(name)s") % {"name": name}),
            savepoint=False,
            locked=locked,
        )
        audit.record(
            "delivery.handed_over",
            actor=actor,
            obj=handover,
            center=locked.pickup_center.code,
            reference=locked.reference,
            recipient=name,
            id_kind=id_kind,
            is_applicant=is_applicant,
        )
    app.status = locked.status
    return handover


# ---------------------------------------------------------------- queue


def _ready_since() -> Subquery:
    return Subquery(
        ApplicationEvent.objects.filter(
            application=OuterRef("pk"), to_status=Status.READY_FOR_PICKUP
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )


def pickup_queue(center: Center) -> QuerySet[Application]:
    """Documents waiting at `center` for their holder, the longest-waiting first.

    Each row carries `ready_since` (when it was routed to the center) and `document_number`.
    """
    return (
        Application.objects.filter(status=Status.READY_FOR_PICKUP, pickup_center=center)
        .select_related("service", "applicant", "center")
        .annotate(
            ready_since=_ready_since(),
            document_number=F("document__number"),
            # Kept in the list, flagged: the holder will come and must be told why not.
            document_state=F("document__state"),
        )
        .order_by(F("ready_since").asc(nulls_first=True), "created_at", "reference")
    )


def search_pickup_queue(center: Center, query: str) -> QuerySet[Application]:
    """Filter the queue by reference (`C03-26-000123`, any case, Arabic digits), national
    number, document number, or words of the applicant's name."""
    qs = pickup_queue(center)
    text = to_latin_digits(query or "").strip()
    if not text:
        return qs
    compact = text.replace(" ", "")
    if compact.isdigit():
        return qs.filter(applicant__national_number__startswith=compact)
    if any(ch.isdigit() for ch in compact) and "-" in compact:
        upper = compact.upper()
        return qs.filter(Q(reference__iexact=upper) | Q(document__number__iexact=upper))
    words = normalize_arabic(text).split()[:5]
    for word in words:
        qs = qs.filter(applicant__name_normalized__contains=word)
    return qs


def waiting_days(ready_since: dt.datetime | None, today: dt.date | None = None) -> int:
    """Whole days a document has been waiting at the counter (0 on the day it arrived)."""
    if ready_since is None:
        return 0
    day = today or timezone.localdate()
    return max(0, (day - timezone.localtime(ready_since).date()).days)
