"""Applications: submit, follow (status and history), pay.

Who may do what:
- a clerk's token submits at the clerk's center (channel `counter`) for the applicant given;
- a citizen's token submits online at the electronic center C00 (channel `online`), for
  themselves only;
- an application is shown only to who may see it (`accounts.permissions.can_view_application`:
  a citizen their own, a clerk their center's…). Anything else is 404, exactly as if the
  reference did not exist, so references cannot be probed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import can_view_application, citizen_of, require_role
from baladiya.accounts.services import complete_profile
from baladiya.api.auth import bearer, is_citizen_token, user_of
from baladiya.api.errors import FieldErrors, django_fields, error_responses
from baladiya.api.idempotency import scoped_key
from baladiya.api.routers.catalog import money
from baladiya.api.schemas import (
    ActionIn,
    ActionOut,
    ApplicantIn,
    ApplicationCreatedOut,
    ApplicationIn,
    ApplicationOut,
    FileIn,
    PaymentIn,
    PaymentOut,
    PaymentStateOut,
    PickupIn,
    PostIn,
)
from baladiya.applications import services as applications
from baladiya.applications.models import Application, Channel
from baladiya.applications.workflow import Status as AppStatus
from baladiya.catalog.forms import clean_field_values
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.centers.services import electronic_center
from baladiya.core.errors import DomainError, NotAllowed, NotFound
from baladiya.core.queries import unique_or_none
from baladiya.core.uploads import CheckedUpload, sniff
from baladiya.core.validators import clean_mobile, clean_national_number
from baladiya.payments import services as payments
from baladiya.payments.models import Receipt
from baladiya.portal.services import CITIZEN_NOTES

router = Router(tags=["applications"])


# ---------------------------------------------------------------- reading


def _visible(request: HttpRequest, reference: str) -> Application:
    """The application if the caller may see it; otherwise 404 (never 403: no probing)."""
    app = (
        unique_or_none(
            Application.objects.select_related(
                "service__agency", "applicant", "center", "pickup_center"
            ).filter(reference=reference[:24])
        )
        if "\x00" not in reference
        else None
    )
    if app is None or not can_view_application(user_of(request), app):
        raise NotFound(_("No application with this reference is visible to you."))
    return app


def _paid(app: Application) -> int:
    total = Receipt.objects.filter(application=app).aggregate(s=Sum("amount"))["s"]
    return int(total or 0)


def _delivery(app: Application) -> dict[str, Any]:
    if app.delivery_mode == "post":
        return {"mode": "post", "center": None, "address": dict(app.delivery_address or {})}
    return {
        "mode": "pickup",
        "center": app.pickup_center.code if app.pickup_center else None,
        "address": None,
    }


def _receipt_out(receipt: Receipt) -> dict[str, Any]:
    return {
        "number": receipt.number,
        "amount": money(receipt.amount),
        "method": receipt.method,
        "issued_at": receipt.issued_at,
        "center": receipt.center.code,
        "refunded": money(sum(r.amount for r in receipt.refunds.all())),
    }


# An application in these states has no document: every step that issues one starts from
# `approved` and ends past it (applications.workflow). Saves a query on most status reads.
_NOT_ISSUED = frozenset(
    {
        AppStatus.SUBMITTED,
        AppStatus.PAID,
        AppStatus.IN_REVIEW,
        AppStatus.APPROVED,
        AppStatus.RETURNED,
        AppStatus.REJECTED,
    }
)


def _document_out(app: Application, doc: Any = None) -> dict[str, Any] | None:
    from baladiya.documents.models import IssuedDocument

    if doc is None:
        if app.status in _NOT_ISSUED:
            return None
        doc = unique_or_none(
            IssuedDocument.objects.only("number", "state", "valid_until").filter(application=app)
        )
    if doc is None:
        return None
    return {
        "number": doc.number,
        "state": doc.state,
        "valid_until": doc.valid_until,
        "verify_url": settings.PUBLIC_BASE_URL + reverse("verify:detail", args=[doc.number]),
    }


def _created_out(app: Application) -> dict[str, Any]:
    return {
        "reference": app.reference,
        "status": app.status,
        "amount_due": money(max(app.fee_amount - _paid(app), 0)),
        "service": app.service.code,
        "channel": app.channel,
        "center": app.center.code,
        "delivery": _delivery(app),
        "created_at": app.created_at,
    }


@router.get(
    "/{reference}",
    response={200: ApplicationOut, **error_responses()},
    auth=bearer,
    summary="Status and history",
)
def get_application(request: HttpRequest, reference: str) -> Status[dict[str, Any]]:
    """The application's status, fee, what is still due, its full history, receipts and the
    issued document (with its public verification link)."""
    app = _visible(request, reference)
    citizen_view = is_citizen_token(request)
    receipts = list(
        Receipt.objects.filter(application=app)
        .select_related("center")
        .prefetch_related("refunds")
        .order_by("issued_at")
    )
    paid = sum(r.amount for r in receipts)
    return Status(
        200,
        {
            "reference": app.reference,
            "status": app.status,
            "status_label": str(AppStatus(app.status).label),
            "service": {
                "code": app.service.code,
                "name": {"ar": app.service.name_ar, "en": app.service.name_en},
            },
            "channel": app.channel,
            "center": app.center.code,
            "fee": money(app.fee_amount),
            "amount_due": money(max(app.fee_amount - paid, 0)),
            "delivery": _delivery(app),
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "sla_due": app.sla_due,
            "history": [
                {
                    "action": ev.action,
                    "from_status": ev.from_status,
                    "to_status": ev.to_status,
                    "at": ev.created_at,
                    # A citizen sees what the portal shows: no staff names, no internal notes.
                    "by": "" if citizen_view else ev.actor_name,
                    "note": ev.note if not citizen_view or ev.action in CITIZEN_NOTES else "",
                }
                for ev in app.events.order_by("created_at", "id")
            ],
            "receipts": [_receipt_out(r) for r in receipts],
            "document": _document_out(app),
        },
    )


# ---------------------------------------------------------------- submitting


def _service(code: str) -> Service:
    svc = unique_or_none(
        Service.objects.filter(code=code.strip(), active=True).prefetch_related(
            "fields", "attachments", "fees"
        )
    )
    if svc is None:
        raise FieldErrors({"service": [_("No service with this code is offered.")]})
    return svc


def _delivery_in(
    service: Service, delivery: PickupIn | PostIn, errors: dict[str, list[str]]
) -> tuple[str, Center | None, dict[str, Any]]:
    if delivery.mode not in (service.delivery_modes or []):
        errors["delivery.mode"] = [_("This service cannot be delivered that way.")]
    if isinstance(delivery, PickupIn):
        center = unique_or_none(
            Center.objects.filter(
                code=delivery.center.strip().upper(), active=True, accepts_pickup=True
            )
        )
        if center is None:
            errors["delivery.center"] = [_("Choose a center where documents can be picked up.")]
        return "pickup", center, {}
    address = {
        "line": delivery.address.line.strip(),
        "neighbourhood": delivery.address.neighbourhood.strip(),
        "phone": delivery.address.phone.strip(),
    }
    if not address["line"]:
        errors["delivery.address.line"] = [_("This field is required.")]
    if address["phone"]:
        try:
            address["phone"] = clean_mobile(address["phone"])
        except ValidationError as exc:
            errors["delivery.address.phone"] = [str(m) for m in exc.messages]
    return "post", None, address


def _decode_file(code: str, value: FileIn, errors: dict[str, list[str]]) -> CheckedUpload | None:
    limit = settings.UPLOAD_MAX_BYTES
    where = f"fields.{code}"
    if len(value.content_base64) > (limit // 3 + 1) * 4 + 4:
        errors[where] = [_("The file is too large.")]
        return None
    try:
        content = base64.b64decode(value.content_base64, validate=True)
    except (binascii.Error, ValueError):
        errors[where] = [_("The file is not valid base64.")]
        return None
    if not content:
        errors[where] = [_("The file is empty.")]
        return None
    if len(content) > limit:
        errors[where] = [_("The file is too large.")]
        return None
    content_type = sniff(content[:16])
    if content_type is None:
        errors[where] = [_("Only PDF, PNG or JPEG files are accepted.")]
        return None
    return CheckedUpload(
        content=content,
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        name=value.filename[-200:],
    )


def _fields_in(
    service: Service, raw: dict[str, Any], errors: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, CheckedUpload]]:
    attachment_codes = {a.code for a in service.attachments.all()}
    field_names = {f.name for f in service.fields.all()}
    values: dict[str, Any] = {}
    files: dict[str, CheckedUpload] = {}
    for name, value in raw.items():
        if isinstance(value, FileIn):
            if name not in attachment_codes or name in field_names:
                errors[f"fields.{name}"] = [_("This field does not take a file.")]
            elif (upload := _decode_file(name, value, errors)) is not None:
                files[name] = upload
        elif name in attachment_codes and name not in field_names:
            if value not in (None, ""):
                errors[f"fields.{name}"] = [_("Send this paper as a file.")]
        elif isinstance(value, bool):
            errors[f"fields.{name}"] = [_("Enter text or a number here.")]
        else:
            values[name] = value
    try:
        clean_field_values(service, values)
    except ValidationError as exc:
        errors.update(django_fields(exc, "fields."))
    for att in service.attachments.all():
        if att.required and att.code not in files and att.code not in field_names:
            errors.setdefault(f"fields.{att.code}", [_("This paper is required.")])
    return values, files


def _split_name(applicant: ApplicantIn) -> dict[str, str]:
    first, father, last = (
        applicant.first_name.strip(),
        applicant.father_name.strip(),
        applicant.last_name.strip(),
    )
    if not (first and last):
        words = applicant.name.split()
        if len(words) >= 2:
            first, last = words[0], words[-1]
            father = " ".join(words[1:-1])
    return {"first_name": first, "father_name": father, "last_name": last}


def _staff_applicant(
    actor: User, applicant: ApplicantIn | None, errors: dict[str, list[str]]
) -> tuple[Citizen | None, dict[str, Any] | None]:
    """An existing citizen by national number, or the fields to register a new one."""
    if applicant is None:
        errors["applicant"] = [_("Say who applies: national number and name.")]
        return None, None
    try:
        nn = clean_national_number(applicant.national_number)
    except ValidationError as exc:
        errors["applicant.national_number"] = [str(m) for m in exc.messages]
        return None, None
    existing = unique_or_none(Citizen.objects.filter(national_number=nn))
    if existing is not None:
        return existing, None
    names = _split_name(applicant)
    if not (names["first_name"] and names["last_name"]):
        errors["applicant.name"] = [_("Give the full name: first, father's and family name.")]
    for key, limit in (("first_name", 60), ("father_name", 60), ("last_name", 60)):
        if len(names[key]) > limit:
            errors[f"applicant.{key}"] = [_("This name is too long.")]
    phone = ""
    if applicant.phone.strip():
        try:
            phone = clean_mobile(applicant.phone)
        except ValidationError as exc:
            errors["applicant.phone"] = [str(m) for m in exc.messages]
    return None, {
        "national_number": nn,
        **names,
        "mother_name": applicant.mother_name.strip(),
        "birth_date": applicant.birth_date,
        "phone": phone,
    }


def _citizen_applicant(user: User, applicant: ApplicantIn | None) -> Citizen:
    """The calling citizen's own record. Without one yet, the applicant block completes the
    profile (`accounts.services.complete_profile`: a national number already registered with
    another mobile is refused, 409)."""
    citizen = citizen_of(user)
    if citizen is None:
        if applicant is None:
            raise DomainError(
                _("Complete your profile first: send the applicant's national number and name."),
                code="profile_incomplete",
            )
        names = _split_name(applicant)
        return complete_profile(
            user,
            national_number=applicant.national_number,
            first_name=names["first_name"],
            father_name=names["father_name"],
            last_name=names["last_name"],
            mother_name=applicant.mother_name,
            birth_date=applicant.birth_date,
        )
    if applicant is not None:
        try:
            nn = clean_national_number(applicant.national_number)
        except ValidationError as exc:
            raise FieldErrors(
                {"applicant.national_number": [str(m) for m in exc.messages]}
            ) from exc
        if nn != citizen.national_number:
            raise NotAllowed(
                _("You can apply only for yourself: the national number is not yours."),
                code="not_your_record",
            )
    return citizen


@router.post(
    "",
    response={201: ApplicationCreatedOut, **error_responses()},
    auth=bearer,
    summary="Submit an application",
)
def create_application(request: HttpRequest, payload: ApplicationIn) -> Status[dict[str, Any]]:
    """Submit an application, validated like the counter form.

    A clerk's token submits at the clerk's center; a citizen's token submits online (C00) for
    the citizen. The fee in force today is snapshotted: `amount_due` is what must be paid.
    """
    user = user_of(request)
    citizen_caller = is_citizen_token(request)
    if not citizen_caller:
        staff = require_role(user, roles.CLERK)
        if staff.center is None:
            raise NotAllowed(_("Your account is not attached to a center: ask an administrator."))
    errors: dict[str, list[str]] = {}
    service = _service(payload.service)
    mode, pickup_center, address = _delivery_in(service, payload.delivery, errors)
    values, files = _fields_in(service, payload.fields, errors)
    applicant: Citizen | None = None
    new_citizen = None
    if citizen_caller:
        center, channel = electronic_center(), Channel.ONLINE
    else:
        applicant, new_citizen = _staff_applicant(user, payload.applicant, errors)
        center, channel = user.center, Channel.COUNTER  # type: ignore[assignment]
    if errors:
        raise FieldErrors(errors)
    # A citizen's profile completed here, or a citizen registered here, is kept only with the
    # application: a refused request changes nothing.
    with transaction.atomic():
        if citizen_caller:
            applicant = _citizen_applicant(user, payload.applicant)
        if applicant is None:
            assert new_citizen is not None
            applicant = applications.register_citizen(user, **new_citizen)
        app = applications.submit_application(
            user,
            applications.Submission(
                service=service,
                applicant=applicant,
                center=center,
                fields=values,
                delivery_mode=mode,
                pickup_center=pickup_center,
                delivery_address=address,
                attachments=files,
                channel=channel,
                idempotency_key=scoped_key(request, "application"),
                note=payload.note.strip(),
            ),
        )
    return Status(201, _created_out(app))


# ---------------------------------------------------------------- paying


def _gateways() -> Any:
    try:
        return importlib.import_module("baladiya.payments.gateways.services")
    except ImportError as exc:
        raise DomainError(
            _("Online payment is not available on this server."),
            code="online_payment_unavailable",
        ) from exc


def _intent_out(intent: Any) -> dict[str, Any]:
    gateway = getattr(intent, "gateway", None)
    return {
        "id": str(intent.id),
        "status": str(intent.status),
        "amount": money(int(intent.amount)),
        "gateway": str(getattr(gateway, "code", gateway)) if gateway else None,
    }


@router.post(
    "/{reference}/payments",
    response={201: PaymentOut, **error_responses()},
    auth=bearer,
    summary="Pay: start an online payment, or record cash",
)
def pay(request: HttpRequest, reference: str, payload: PaymentIn) -> Status[dict[str, Any]]:
    """Start paying the application's fee; the answer says what the client must do next.

    - `online` (citizens, and the default for everyone but cashiers): `action` is `redirect`:
      send the payer's browser to `url` (the gateway's hosted page). The application becomes
      `paid` when the gateway confirms: when the payer is back, GET
      `/applications/{reference}/payments/{payment.id}`, which asks the gateway if its signed
      notification has not arrived yet; or follow the application with GET.
    - `cash` (a cashier of the application's center, with an open drawer): the fee is taken
      now; `action` is `none` and `receipt` is the receipt.
    """
    app = _visible(request, reference)
    user = user_of(request)
    citizen_caller = is_citizen_token(request)
    method = payload.method or (
        "cash" if not citizen_caller and user.has_role(roles.CASHIER) else "online"
    )
    if method == "cash":
        if citizen_caller:
            raise NotAllowed(_("Cash is paid at a center's counter."))
        receipt = payments.record_cash_payment(app, user, scoped_key(request, "cash"))
        app.refresh_from_db(fields=["status"])
        return Status(
            201,
            {
                "action": "none",
                "receipt": _receipt_out(receipt),
                "application": {"reference": app.reference, "status": app.status},
            },
        )
    return_url = payload.return_url or reverse("payments:online_return")
    start = _gateways().start_online_payment(
        app,
        user,
        gateway=payload.gateway,
        return_url=return_url,
        idempotency_key=scoped_key(request, "online"),
    )
    app.refresh_from_db(fields=["status"])
    return Status(
        201,
        {
            "action": "redirect",
            "url": request.build_absolute_uri(start.redirect_url),
            "payment": _intent_out(start.intent),
            "application": {"reference": app.reference, "status": app.status},
        },
    )


@router.get(
    "/{reference}/payments/{payment_id}",
    response={200: PaymentStateOut, **error_responses()},
    auth=bearer,
    summary="An online payment's state, once the payer is back from the gateway",
)
def payment_state(request: HttpRequest, reference: str, payment_id: str) -> Status[dict[str, Any]]:
    """Where the online payment `payment_id` (`payment.id` from POST …/payments) stands. If it
    is still open, the gateway is asked now (a few times a minute at most), so a client whose
    payer came back from the gateway's page learns the outcome at once, without waiting for
    the gateway's notification. `receipt` is there once the payment is recorded."""
    app = _visible(request, reference)
    intent = _gateways().check_intent(_intent_of(app, payment_id))
    app.refresh_from_db(fields=["status"])
    receipt = intent.receipt
    return Status(
        200,
        {
            "payment": _intent_out(intent),
            "receipt": _receipt_out(receipt) if receipt is not None else None,
            "application": {"reference": app.reference, "status": app.status},
        },
    )


def _intent_of(app: Application, payment_id: str) -> Any:
    from baladiya.payments.models import PaymentIntent

    try:
        pk = uuid.UUID(payment_id)
    except ValueError:
        pk = None
    intent = (
        unique_or_none(
            PaymentIntent.objects.select_related("receipt__center").filter(pk=pk, application=app)
        )
        if pk is not None
        else None
    )
    if intent is None:
        raise NotFound(_("No such payment for this application."))
    return intent


# ---------------------------------------------------------------- staff actions


@router.post(
    "/{reference}/actions",
    response={200: ActionOut, **error_responses()},
    auth=bearer,
    summary="Staff: review, approve, return, reject, cancel or issue; citizens: cancel",
)
def act(request: HttpRequest, reference: str, payload: ActionIn) -> Status[dict[str, Any]]:
    """Take one step of the workflow, with the same rules as the staff screens (role, center,
    agency, current state: a step not possible now is 409 `illegal_transition`). `return`,
    `reject` and `cancel` need a `note`; `issue` signs the document and returns its number.
    A citizen's token may only `cancel` their own online application while no fee was paid
    (`accounts.permissions.citizen_refusal`); every other step is 403 for them."""
    app = _visible(request, reference)
    user = user_of(request)
    note = payload.note.strip()
    doc = None
    # Every step below updates `app.status` in place (applications.services.move): no need to
    # read the row again for the answer.
    if payload.action == "issue":
        from baladiya.documents.services import issue_document

        doc = issue_document(app, user)
    elif payload.action == "start_review":
        applications.start_review(app, user)
    elif payload.action == "approve":
        applications.approve(app, user, note)
    elif payload.action == "return":
        applications.return_for_correction(app, user, note)
    elif payload.action == "reject":
        applications.reject(app, user, note)
    else:
        applications.cancel(app, user, note)
    return Status(
        200,
        {"reference": app.reference, "status": app.status, "document": _document_out(app, doc)},
    )
