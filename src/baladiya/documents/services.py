"""Issue and revoke documents; the verification functions are re-exported from
`documents.verification` so callers find every documents service here.

`issue_document` renders the PDF (Typst), signs the QR claims and the PDF bytes (Ed25519),
stores the record and moves the application to `issued` (then to `ready_for_pickup` for a
pickup), in one transaction. `verify_payload` / `verify_pdf` give a `Verdict`; with a `keys`
mapping (see `load_keys_json`) they work offline, without this database. Formats:
docs/qr-payload.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import typst
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import can_view_application, require_role, require_transition
from baladiya.applications import hooks
from baladiya.applications import services as applications
from baladiya.applications.models import Application
from baladiya.applications.workflow import check_transition, transition
from baladiya.catalog.models import DeliveryMode, FieldType
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.ids import format_reference
from baladiya.core.models import Counter
from baladiya.core.numbering import next_reference
from baladiya.core.queries import unique_or_none
from baladiya.documents import payload as wire
from baladiya.documents import signing
from baladiya.documents.models import IssuedDocument, SigningKey
from baladiya.documents.rendering import render_pdf, template_exists
from baladiya.documents.verification import (
    NUMBER_RE,
    Verdict,
    clean_number,
    is_document_number,
    load_keys_json,
    mask_name,
    mask_national_number,
    verify_number,
    verify_payload,
    verify_pdf,
)
from baladiya.sync import capture

logger = logging.getLogger(__name__)

_LTR_FIELD_TYPES = {FieldType.NATIONAL_NUMBER, FieldType.PHONE, FieldType.DATE, FieldType.NUMBER}


# ---------------------------------------------------------------- issuing


def _already_issued(app: Application) -> Conflict:
    number = IssuedDocument.objects.filter(application_id=app.pk).values_list("number", flat=True)
    return Conflict(
        _("Application %(ref)s already has its document %(number)s; it is issued only once.")
        % {"ref": app.reference, "number": number.first() or ""},
        code="already_issued",
    )


def _field_rows(app: Application) -> list[dict[str, Any]]:
    """The application's form values with their labels, in the service's field order."""
    rows: list[dict[str, Any]] = []
    values = dict(app.field_values or {})
    for f in app.service.fields.all():
        value = values.pop(f.name, None)
        if value is None or str(value).strip() == "":
            continue
        rows.append(
            {
                "name": f.name,
                "label_ar": f.label_ar,
                "label_en": f.label_en,
                "value": str(value),
                "ltr": f.type in _LTR_FIELD_TYPES,
            }
        )
    for name, value in sorted(values.items()):  # a field removed from the service since
        if value is not None and str(value).strip():
            rows.append(
                {"name": name, "label_ar": name, "label_en": name, "value": str(value), "ltr": True}
            )
    return rows


def _content(app: Application, actor: User, issued_at: dt.datetime) -> dict[str, Any]:
    """Everything printed on the document except its number (hashed into claim `d`)."""
    service = app.service
    holder = app.applicant
    today = timezone.localtime(issued_at).date()
    return {
        "reference": app.reference,
        "service_code": service.code,
        "title_ar": service.document_title_ar or service.name_ar,
        "title_en": service.document_title_en or service.name_en,
        "agency_ar": service.agency.name_ar,
        "holder": {
            "name": holder.full_name,
            "national_number": holder.national_number,
            "mother_name": holder.mother_name or "",
            "birth_date": holder.birth_date.isoformat() if holder.birth_date else "",
        },
        # The form, then what the service's rules add (a water clearance: the subscriber,
        # the last billed cycle; applications.hooks).
        "fields": _field_rows(app) + hooks.document_rows(app),
        "issued_at": issued_at.isoformat(),
        "issued_date": today.isoformat(),
        "valid_until": (today + dt.timedelta(days=service.validity_days)).isoformat(),
        "center": {"code": app.center.code, "name_ar": app.center.name_ar},
        "issuer": actor.display_name(),
    }


def _claims(number: str, key_id: str, content: dict[str, Any]) -> dict[str, str]:
    return {
        "n": number,
        "k": key_id,
        "s": content["service_code"],
        "t": content["title_ar"],
        "h": content["holder"]["name"],
        "nn": content["holder"]["national_number"],
        "i": content["issued_date"],
        "v": content["valid_until"],
        "c": content["center"]["code"],
        "d": wire.content_digest(content),
    }


def render_inputs(
    content: dict[str, Any], number: str, payload: str, key_id: str
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """What a document template reads: `data.json` (the content with its number, signed
    payload and the QR code's size) and `qr.bin`, the QR code's raw pixels."""
    qr = wire.qr_image(wire.verify_url(settings.PUBLIC_BASE_URL, number, payload))
    data = {
        **content,
        "number": number,
        "payload": payload,
        "key_id": key_id,
        "qr": {"size": qr.size},
        "verify_base": f"{settings.PUBLIC_BASE_URL}/verify/",
    }
    return data, {"qr.bin": qr.pixels}


def _render(
    template: str, data: dict[str, Any], files: dict[str, bytes], issued_at: dt.datetime
) -> bytes:
    try:
        return render_pdf(template, data, timestamp=issued_at, files=files)
    except (typst.TypstError, FileNotFoundError) as exc:
        logger.exception("document template %s failed", template)
        raise DomainError(
            _("The document could not be produced (template %(name)s). Nothing was changed.")
            % {"name": template},
            code="render_failed",
        ) from exc


@dataclass(frozen=True)
class _Signed:
    number: str
    payload: str
    pdf: bytes  # with the signature trailer


def _sign_and_render(
    number: str, key: SigningKey, content: dict[str, Any], template: str, issued_at: dt.datetime
) -> _Signed:
    """Claims -> signed payload -> QR -> PDF -> signed PDF, for one document number."""
    claims_bytes = wire.encode_claims(_claims(number, key.key_id, content))
    key_id, claims_sig = signing.sign(claims_bytes, key)
    payload = wire.assemble(claims_bytes, claims_sig)
    data, files = render_inputs(content, number, payload, key_id)
    pdf = _render(template, data, files, issued_at)
    pdf_sig = signing.sign(pdf, key)[1]
    return _Signed(number, payload, wire.append_trailer(pdf, key_id, pdf_sig))


def _expected_number(prefix: str) -> str:
    """The number `next_reference(prefix, "D")` will most likely hand out (read, no lock)."""
    year = timezone.localdate().year
    series = unique_or_none(Counter.objects.filter(scope=prefix, kind="D", year=year).only("value"))
    return format_reference(prefix, year, (series.value if series else 0) + 1, "D")


def store_document(
    app: Application,
    actor: User,
    key: SigningKey,
    content: dict[str, Any],
    template: str,
    issued_at: dt.datetime,
    signed: _Signed,
    prefix: str,
) -> IssuedDocument:
    """Take the next number of `prefix`'s series (gap-free: inside the caller's transaction)
    and store the document's row with its signed PDF, rendered again if `signed` was made for
    another number. The workflow (transitions, audit) is the caller's."""
    number = next_reference(prefix, "D")
    if number != signed.number:
        signed = _sign_and_render(number, key, content, template, issued_at)
    return IssuedDocument.objects.create(
        number=number,
        application=app,  # the caller's object: `move` then updates its status
        center=app.center,
        title_ar=content["title_ar"],
        title_en=content["title_en"],
        holder_name=content["holder"]["name"],
        holder_national_number=content["holder"]["national_number"],
        content={**content, "number": number},
        issued_at=issued_at,
        valid_until=dt.date.fromisoformat(content["valid_until"]),
        issued_by=actor,
        key=key,
        payload=signed.payload,
        pdf=signed.pdf,
        pdf_sha256=hashlib.sha256(signed.pdf).hexdigest(),
    )


def issue_document(app: Application, actor: User) -> IssuedDocument:
    """Issue the document of an approved application (transition `issue`).

    Only once per application (a second call raises `Conflict`, nothing changes). Who may:
    the `issue` transition's roles (clerk of the application's center, officer of the
    service's agency, admin). Side effects, in one transaction: next gap-free number
    `<prefix>-D<yy>-<seq>` (prefix: the application's center when the actor works at a center,
    else this node's center code), PDF rendered and signed (QR claims + byte trailer), stored;
    application `approved -> issued`, and for a pickup `issued -> ready_for_pickup` (the
    printed document joins the pickup center's queue); audit `document.issued`. The citizen
    gets one SMS, for the state the application ends in (a pickup: where to collect it).
    """
    # Cheap refusals first, so a wrong click never renders anything (repeated under the lock).
    if IssuedDocument.objects.filter(application_id=app.pk).exists():
        raise _already_issued(app)
    check_transition("issue", app.status)
    require_transition(actor, app, transition("issue"))
    template = app.service.document_template
    if not template_exists(template):
        raise DomainError(
            _("The service has no valid document template (%(name)s).") % {"name": template}
        )
    key = signing.active_key()  # first use creates the key: outside the issuing transaction
    issued_at = timezone.now().replace(microsecond=0)  # the PDF date has whole seconds
    content = _content(app, actor, issued_at)
    prefix = app.center.code if actor.center_id else settings.NODE_CENTER_CODE
    # The number is printed on the PDF and signed, but it is taken (gap-free) only inside the
    # transaction. Render for the number we expect before any lock is held (QR + Typst are
    # the slow part); if another issuance took that number meanwhile, render again inside.
    signed = _sign_and_render(_expected_number(prefix), key, content, template, issued_at)

    with transaction.atomic():
        locked = applications.lock(app)
        if IssuedDocument.objects.filter(application_id=app.pk).exists():
            raise _already_issued(app)
        check_transition("issue", locked.status)
        doc = store_document(app, actor, key, content, template, issued_at, signed, prefix)
        number = doc.number
        pickup = app.delivery_mode == DeliveryMode.PICKUP
        # A pickup document goes on to `ready_for_pickup` at once: one SMS for that state
        # (where to collect it), not a second one milliseconds earlier for `issued`.
        applications.move(
            app, "issue", actor, notify=not pickup, savepoint=False, locked=locked, document=number
        )
        if pickup:
            applications.move(
                app,
                "route_to_pickup",
                actor,
                check_permission=False,
                savepoint=False,
                locked=locked,
            )
        audit.record(
            "document.issued",
            actor=actor,
            obj=doc,
            center=app.center.code,
            number=number,
            reference=app.reference,
            service=app.service.code,
            key_id=key.key_id,
            pdf_sha256=doc.pdf_sha256,
        )
    return doc


def can_revoke(user: Any, doc: IssuedDocument) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not user.has_role(roles.SUPERVISOR, roles.OFFICER, roles.ADMIN):
        return False
    if doc.state != IssuedDocument.State.VALID:
        return False
    if user.has_role(roles.ADMIN, roles.OFFICER) or user.center_id is None:
        return can_view_application(user, doc.application)
    # A center's supervisor revokes only what their center issued, not what it hands over.
    return bool(user.center_id == doc.application.center_id)


def _revocation_checks(doc: IssuedDocument, actor: User, reason: str) -> tuple[User, str]:
    staff = require_role(actor, roles.SUPERVISOR, roles.OFFICER, roles.ADMIN)
    if not can_view_application(staff, doc.application):
        raise NotAllowed(_("This document belongs to another center or agency."))
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise DomainError(_("Give the reason for revoking the document."), code="reason")
    if len(reason) > 250:
        raise DomainError(_("The reason is too long (250 characters at most)."), code="reason")
    if doc.state == IssuedDocument.State.REVOKED:
        raise Conflict(_("This document was already revoked."), code="already_revoked")
    return staff, reason


def request_revocation(doc: IssuedDocument, actor: User, reason: str) -> None:
    """On a center node: revocation is the central node's (the register every verifier
    asks), so the request travels with the next sync and is carried out there by
    `revoke_document`, with the same checks (decision 0009). Audit
    `document.revocation_requested`."""
    staff, reason = _revocation_checks(doc, actor, reason)
    with transaction.atomic():
        capture.emit_request(
            "documents.revoke", doc.number, {"reason": reason, "actor": staff.username}
        )
        audit.record(
            "document.revocation_requested",
            actor=staff,
            obj=doc,
            center=doc.center.code,
            number=doc.number,
            reason=reason,
        )


def revoke_document(doc: IssuedDocument, actor: User, reason: str) -> IssuedDocument:
    """Withdraw a document (wrong data, fraud). Its QR and PDF then verify as *revoked*.

    Who: a supervisor (of the issuing center, or network-wide), an officer (of the
    service's agency) or an admin. A reason is required. Side effects: state, time and reason
    stored; audit `document.revoked`. Revoking twice raises `Conflict`. Central node only
    (a center node calls `request_revocation`).
    """
    if capture.is_center_node():
        raise DomainError(_("Documents are revoked on the central node."), code="central_only")
    staff, reason = _revocation_checks(doc, actor, reason)
    with transaction.atomic():
        locked = IssuedDocument.objects.select_for_update().get(pk=doc.pk)
        if locked.state == IssuedDocument.State.REVOKED:
            raise Conflict(_("This document was already revoked."), code="already_revoked")
        locked.state = IssuedDocument.State.REVOKED
        locked.revoked_at = timezone.now()
        locked.revoked_reason = reason
        locked.save(update_fields=["state", "revoked_at", "revoked_reason"])
        audit.record(
            "document.revoked",
            actor=staff,
            obj=locked,
            center=locked.center.code,
            number=locked.number,
            reason=reason,
        )
    doc.state, doc.revoked_at, doc.revoked_reason = (
        locked.state,
        locked.revoked_at,
        locked.revoked_reason,
    )
    return doc


__all__ = [
    "NUMBER_RE",
    "Verdict",
    "can_revoke",
    "clean_number",
    "is_document_number",
    "issue_document",
    "load_keys_json",
    "mask_name",
    "mask_national_number",
    "request_revocation",
    "revoke_document",
    "verify_number",
    "verify_payload",
    "verify_pdf",
]
