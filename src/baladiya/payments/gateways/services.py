"""Online payment, our side: payment intents, webhooks, status queries, settlement imports.

The rules (docs/decisions/0006-payment-gateways.md):
- An intent snapshots the fee and is opened at the gateway; the application becomes `paid`
  only on the gateway's word: a verified webhook or the answer to our status query. The
  payer's browser coming back proves nothing by itself.
- Every change to an intent happens with its row locked, so a webhook, its duplicate and the
  browser's return arriving together are applied one after the other; the receipt's unique
  gateway reference backs this up. A webhook event id is processed once (`GatewayWebhook`).
- Money the gateway took is always receipted, even after our intent expired, was declined
  or abandoned (a late success). If the application can no longer be paid by it (cancelled
  meanwhile, paid otherwise, wrong amount) the receipt is refunded through the gateway
  automatically; if that refund fails it is retried by `sweep_intents`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import ratelimit, roles
from baladiya.accounts.permissions import citizen_of, require_role
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.services import electronic_center
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed, NotFound
from baladiya.core.money import CURRENCY, format_pounds
from baladiya.core.queries import unique_or_none
from baladiya.payments import services as payments
from baladiya.payments.gateways import purposes
from baladiya.payments.gateways.base import (
    EventKind,
    GatewayError,
    GatewayEvent,
    GatewayStatus,
    NotConfigured,
    PaymentGateway,
    PaymentState,
    SettlementFileError,
    StartRequest,
    UnknownGateway,
    external_ref,
)
from baladiya.payments.gateways.registry import default_gateway, get_gateway
from baladiya.payments.models import (
    OPEN_INTENT_STATES,
    GatewayWebhook,
    IntentStatus,
    PaymentIntent,
    Receipt,
    SettlementImport,
    SettlementLine,
)

if TYPE_CHECKING:
    from baladiya.accounts.models import User

logger = logging.getLogger(__name__)
MAX_KEY = 80
MAX_SETTLEMENT_BYTES = 5 * 1024 * 1024

# Webhook outcomes (the JSON answer to the gateway, and `GatewayWebhook.outcome`).
RECORDED = "recorded"
ALREADY_RECORDED = "already_recorded"
DUPLICATE = "duplicate"
IGNORED = "ignored"
PENDING = "pending"


class UnknownPayment(NotFound):
    code = "unknown_payment"


class PaymentNotRecordedYet(Conflict):
    """A refund notice for a payment whose own notice has not arrived: the gateway retries."""

    code = "payment_not_recorded_yet"


@dataclass(frozen=True)
class PaymentStart:
    """What `start_online_payment` returns: the intent, and where to send the payer.

    `redirect_url` may be relative (the sandbox's page is served by this node): pass it
    through `request.build_absolute_uri()` before giving it to an API client.
    """

    intent: PaymentIntent
    redirect_url: str
    created: bool = True


# ---------------------------------------------------------------- who may pay


def may_pay_online(user: Any, app: Application) -> bool:
    """The applicant's own citizen account, or a cashier of the application's center."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    citizen = citizen_of(user)
    if citizen is not None and citizen.pk == app.applicant_id:
        return True
    return bool(
        user.has_role(roles.CASHIER)
        and user.center_id is not None
        and user.center_id == app.center_id
    )


def _require_payer(user: Any, app: Application) -> User:
    if not may_pay_online(user, app):
        raise NotAllowed(_("You may not pay this application."))
    payer: User = user
    return payer


# ---------------------------------------------------------------- starting


def intent_ttl() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "PAYMENT_INTENT_TTL_SECONDS", 1800)))


def _clean_key(key: str | None) -> str | None:
    text = (key or "").strip()
    if len(text) > MAX_KEY:
        raise DomainError(_("The form token is too long."))
    return text or None


def _allowed_return_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS) + list(getattr(settings, "PAYMENT_RETURN_HOSTS", []))
    public = urlsplit(settings.PUBLIC_BASE_URL).hostname
    if public:
        hosts.append(public)
    return hosts


def _check_return_url(url: str, gateway: PaymentGateway) -> str:
    """A path on this site, or an http(s) URL on one of our hosts (never an open redirect)."""
    text = (url or "").strip()
    if not text or len(text) > 1000:
        raise DomainError(_("A valid return address is required."), code="bad_return_url")
    if text.startswith("/") and not text.startswith("//") and "\\" not in text:
        return settings.PUBLIC_BASE_URL + text if gateway.external else text
    parts = urlsplit(text)
    domain, _port = split_domain_port(parts.netloc.rpartition("@")[2])
    if parts.scheme not in ("http", "https") or not domain or parts.username or parts.password:
        raise DomainError(_("A valid return address is required."), code="bad_return_url")
    if not validate_host(domain, _allowed_return_hosts()):
        raise DomainError(_("This return address is not allowed."), code="bad_return_url")
    return text


def _with_intent(url: str, intent_id: uuid.UUID) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "intent"]
    query.append(("intent", str(intent_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def notify_url(gateway: str) -> str:
    path = reverse("payments:gateway_webhook", kwargs={"gateway": gateway})
    return settings.PUBLIC_BASE_URL + path


def _gateway_for_start(name: str | None) -> PaymentGateway:
    chosen = (name or "").strip() or default_gateway()
    if not chosen:
        raise NotConfigured(_("Online payment is not available on this server."))
    try:
        return get_gateway(chosen)
    except UnknownGateway:
        raise DomainError(
            _("This payment channel is not offered here."), code="unknown_gateway"
        ) from None


def start_online_payment(
    app: Application,
    actor: Any,
    *,
    gateway: str | None = None,
    return_url: str,
    idempotency_key: str | None = None,
) -> PaymentStart:
    """Open a payment of `app`'s fee at `gateway` (default: `PAYMENT_GATEWAY_DEFAULT`).

    The actor is the applicant's citizen account or a cashier of the application's center.
    Refuses (DomainError, nothing written) an application that is not awaiting payment
    (`AlreadyPaid` with the receipt when it is paid). Idempotent: the same `idempotency_key`
    returns the same intent; without a key, a still-open intent at the same gateway is
    reused instead of opening a second payable session. The gateway sends the payer back to
    `return_url` with `?intent=<id>` added (`payments:online_return` reads it).
    """
    gw = _gateway_for_start(gateway)
    key = _clean_key(idempotency_key)
    payer = _require_payer(actor, app)
    if key and (existing := _by_key(key, app)):
        return _resume(gw, existing)
    target = _check_return_url(return_url, gw)
    reused: PaymentIntent | None = None
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("service", "applicant", "center")
            .get(pk=app.pk)
        )
        payments._refuse_second_payment(locked)
        if locked.fee_amount <= 0:
            raise DomainError(_("There is nothing to pay for this application."))
        reused = _live_intent(locked, gw.name)
        if reused is None:
            try:
                with transaction.atomic():
                    intent = PaymentIntent.objects.create(
                        application=locked,
                        amount=locked.fee_amount,
                        currency=CURRENCY,
                        gateway=gw.name,
                        started_by=payer,
                        idempotency_key=key,
                        expires_at=timezone.now() + intent_ttl(),
                    )
            except IntegrityError:
                reused = _by_key(key, app) if key else None
                if reused is None:
                    raise
            else:
                intent.return_url = _with_intent(target, intent.pk)
                intent.save(update_fields=["return_url", "updated_at"])
                audit.record(
                    "payments.intent_created",
                    actor=payer,
                    obj=intent,
                    center=locked.center.code,
                    reference=locked.reference,
                    gateway=gw.name,
                    amount=intent.amount,
                )
    if reused is not None:
        return _resume(gw, reused)
    return _open_at_gateway(gw, intent)


def _by_key(key: str, app: Application) -> PaymentIntent | None:
    found = unique_or_none(PaymentIntent.objects.filter(idempotency_key=key))
    if found is not None and found.application_id != app.pk:
        raise Conflict(_("This payment form was already used for another application."))
    return found


def _live_intent(app: Application, gateway: str) -> PaymentIntent | None:
    return (
        PaymentIntent.objects.filter(
            application=app,
            gateway=gateway,
            status=IntentStatus.PENDING,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


def _resume(gw: PaymentGateway, intent: PaymentIntent) -> PaymentStart:
    if intent.status == IntentStatus.CREATED:
        return _open_at_gateway(gw, intent)  # a crash or a race between the two steps
    if intent.status == IntentStatus.PENDING:
        return PaymentStart(intent, intent.redirect_url, created=False)
    return PaymentStart(intent, intent.return_url, created=False)  # over: show its status


def _description(app: Application) -> str:
    return f"{app.service.name_ar} — {app.reference}"[:250]


def start_purpose_payment(
    purpose: str,
    subject: dict[str, Any],
    amount: int,
    payer: User,
    *,
    payer_name: str,
    payer_phone: str,
    description: str,
    return_url: str,
    idempotency_key: str | None = None,
    gateway: str | None = None,
) -> PaymentStart:
    """Open a payment of something else than an application (`purposes`): the caller (the
    app that owns the debt) has checked who pays and that `amount` is owed. Idempotent on
    `idempotency_key` like `start_online_payment`; the same key for another subject is
    refused."""
    gw = _gateway_for_start(gateway)
    key = _clean_key(idempotency_key)
    if amount <= 0:
        raise DomainError(_("There is nothing to pay."), code="nothing_to_pay")
    if key and (existing := unique_or_none(PaymentIntent.objects.filter(idempotency_key=key))):
        if existing.purpose != purpose or existing.subject != subject:
            raise Conflict(_("This payment form was already used for another payment."))
        return _resume(gw, existing)
    target = _check_return_url(return_url, gw)
    with transaction.atomic():
        intent = PaymentIntent.objects.create(
            purpose=purpose,
            subject=subject,
            payer_name=payer_name[:200],
            payer_phone=payer_phone[:20],
            description=description[:250],
            amount=amount,
            currency=CURRENCY,
            gateway=gw.name,
            started_by=payer,
            idempotency_key=key,
            expires_at=timezone.now() + intent_ttl(),
        )
        intent.return_url = _with_intent(target, intent.pk)
        intent.save(update_fields=["return_url", "updated_at"])
        audit.record(
            "payments.intent_created",
            actor=payer,
            obj=intent,
            purpose=purpose,
            subject=subject,
            gateway=gw.name,
            amount=amount,
        )
    return _open_at_gateway(gw, intent)


def _open_at_gateway(gw: PaymentGateway, intent: PaymentIntent) -> PaymentStart:
    """Step 2, outside any transaction (a real gateway is a network call)."""
    description, phone = intent.description, intent.payer_phone
    if intent.application_id is not None:
        app = Application.objects.select_related("service", "applicant").get(
            pk=intent.application_id
        )
        description, phone = _description(app), app.applicant.phone
    request = StartRequest(
        merchant_ref=str(intent.pk),
        amount=intent.amount,
        currency=intent.currency,
        description=description,
        return_url=intent.return_url,
        notify_url=notify_url(gw.name),
        payer_phone=phone,
        language=get_language() or settings.LANGUAGE_CODE,
    )
    try:
        started = gw.start(request)
    except GatewayError as exc:
        _give_up(intent, str(exc.message))
        raise
    with transaction.atomic():
        locked = PaymentIntent.objects.select_for_update().get(pk=intent.pk)
        if locked.status == IntentStatus.CREATED:
            locked.gateway_payment_id = started.payment_id[:80]
            locked.redirect_url = started.redirect_url
            locked.status = IntentStatus.PENDING
            locked.save(
                update_fields=["gateway_payment_id", "redirect_url", "status", "updated_at"]
            )
            audit.record(
                "payments.intent_started",
                actor=locked.started_by,
                obj=locked,
                gateway=locked.gateway,
                payment_id=locked.gateway_payment_id,
            )
    return PaymentStart(locked, locked.redirect_url or locked.return_url)


def _give_up(intent: PaymentIntent, error: str) -> None:
    with transaction.atomic():
        updated = PaymentIntent.objects.filter(pk=intent.pk, status=IntentStatus.CREATED).update(
            status=IntentStatus.EXPIRED,
            error=error[:250],
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if updated:
            audit.record("payments.intent_failed", obj=intent, error=error[:200])


def latest_intent(app: Application) -> PaymentIntent | None:
    """The application's most recent online payment attempt (for status pages and the API)."""
    return PaymentIntent.objects.filter(application=app).order_by("-created_at").first()


# ---------------------------------------------------------------- what the gateway tells us


def handle_webhook(gateway: str, headers: Any, body: bytes) -> str:
    """Verify and apply one webhook. Raises `UnknownGateway` (404), `BadSignature` (400),
    `UnknownPayment` (404), `PaymentNotRecordedYet` (409); returns the outcome."""
    gw = get_gateway(gateway)
    event = gw.parse_webhook(headers, body)  # nothing is read or written before this
    return process_event(gw, event)


def process_event(gw: PaymentGateway, event: GatewayEvent) -> str:
    intent = _find_intent(gw.name, event.payment)
    if intent is None:
        raise UnknownPayment(_("No such payment."))
    if event.kind == EventKind.REFUND_SUCCEEDED:
        return _refund_event(gw, event, intent)
    status = event.kind.payment_status or event.payment.status
    with transaction.atomic():
        if not _claim(gw.name, event, intent):
            return DUPLICATE
        locked = _lock(intent)
        outcome = _apply(locked, replace(event.payment, status=status), via="webhook")
        GatewayWebhook.objects.filter(gateway=gw.name, event_id=event.event_id).update(
            outcome=outcome
        )
    _refund_if_due(locked)
    return outcome


def _find_intent(gateway: str, state: PaymentState) -> PaymentIntent | None:
    # By the gateway's payment id (unique once set); an empty one would match every intent
    # whose `start` answer was lost, so it matches none here.
    found = PaymentIntent.objects.filter(gateway=gateway, gateway_payment_id=state.payment_id)
    if state.payment_id and (intent := unique_or_none(found)):
        return intent
    # The gateway's answer to `start` was lost: it still echoes our intent id.
    try:
        intent_id = uuid.UUID(state.merchant_ref)
    except ValueError:
        return None
    return unique_or_none(
        PaymentIntent.objects.filter(pk=intent_id, gateway=gateway, gateway_payment_id="")
    )


def _claim(gateway: str, event: GatewayEvent, intent: PaymentIntent) -> bool:
    """Record the event id; False if it was already there (a replay or a duplicate). On
    PostgreSQL a concurrent twin waits on the unique index, then fails: one wins."""
    if GatewayWebhook.objects.filter(gateway=gateway, event_id=event.event_id).exists():
        return False
    try:
        with transaction.atomic():
            GatewayWebhook.objects.create(
                gateway=gateway,
                event_id=event.event_id,
                kind=str(event.kind),
                payment_id=event.payment.payment_id[:80],
                intent=intent,
            )
    except IntegrityError:
        return False
    return True


def _lock(intent: PaymentIntent) -> PaymentIntent:
    return PaymentIntent.objects.select_for_update().get(pk=intent.pk)


_FINAL = {
    GatewayStatus.DECLINED: IntentStatus.DECLINED,
    GatewayStatus.ABANDONED: IntentStatus.ABANDONED,
    GatewayStatus.EXPIRED: IntentStatus.EXPIRED,
}


def _apply(intent: PaymentIntent, state: PaymentState, *, via: str) -> str:
    """Apply the gateway's word to a locked intent (inside the caller's transaction)."""
    if state.status == GatewayStatus.SUCCEEDED:
        return _succeed(intent, state, via=via)
    if state.status == GatewayStatus.PENDING:
        return PENDING
    if intent.status not in OPEN_INTENT_STATES:
        return IGNORED  # e.g. a decline notified after the success: the money decides
    intent.status = _FINAL[state.status]
    intent.completed_at = timezone.now()
    intent.save(update_fields=["status", "completed_at", "updated_at"])
    audit.record(
        f"payments.intent_{intent.status}",
        obj=intent,
        gateway=intent.gateway,
        payment_id=intent.gateway_payment_id,
        via=via,
    )
    return str(intent.status)


def _unapplied_reason(app: Application, intent: PaymentIntent, amount: int) -> str:
    """Why money taken cannot pay `app` ('' if it can). Stored in the council's language."""
    with translation.override(settings.LANGUAGE_CODE):
        if amount != intent.amount or amount != app.fee_amount:
            return str(
                _("Automatic refund: the amount paid (%(paid)s) is not the fee (%(fee)s).")
                % {"paid": format_pounds(amount), "fee": format_pounds(app.fee_amount)}
            )
        if app.status == Status.SUBMITTED:
            return ""
        if app.status == Status.CANCELLED:
            return str(_("Automatic refund: the application was cancelled before the payment."))
        return str(_("Automatic refund: the application was already paid."))


def _succeed(intent: PaymentIntent, state: PaymentState, *, via: str) -> str:
    if intent.receipt_id is not None:
        return ALREADY_RECORDED
    if state.currency != intent.currency:
        raise GatewayError(_("The gateway reported a payment in another currency."))
    if not intent.gateway_payment_id:
        intent.gateway_payment_id = state.payment_id[:80]
    ref = external_ref(intent.gateway, intent.gateway_payment_id)
    if intent.application_id is None:
        receipt, reason = _receipt_for_purpose(intent, state, ref)
    else:
        app = Application.objects.select_for_update().get(pk=intent.application_id)
        reason = _unapplied_reason(app, intent, state.amount)
        if reason:
            receipt = payments.record_unapplied_gateway_payment(
                app, state.amount, ref, reason, paid_at=state.paid_at
            )
        else:
            receipt = payments.record_gateway_payment(app, state.amount, ref, paid_at=state.paid_at)
    previous = intent.status
    intent.receipt = receipt
    intent.refund_due = reason
    intent.status = IntentStatus.SUCCEEDED
    intent.completed_at = timezone.now()
    intent.save(
        update_fields=[
            "receipt",
            "refund_due",
            "status",
            "completed_at",
            "gateway_payment_id",
            "updated_at",
        ]
    )
    audit.record(
        "payments.intent_succeeded",
        obj=intent,
        gateway=intent.gateway,
        payment_id=intent.gateway_payment_id,
        receipt=receipt.number,
        previous=previous,
        late=previous not in OPEN_INTENT_STATES,
        refund_due=reason,
        via=via,
    )
    return RECORDED


def _receipt_for_purpose(
    intent: PaymentIntent, state: PaymentState, ref: str
) -> tuple[Receipt, str]:
    """Money taken for a purpose (water bills): receipted at the electronic center, then
    applied to the debt, or refunded when the debt changed meanwhile (paid at a counter)."""
    purpose = purposes.purpose_of(intent)
    with translation.override(settings.LANGUAGE_CODE):
        reason = str(purpose.unapplied_reason(intent, state.amount))
    receipt = payments.record_purpose_gateway_payment(
        electronic_center(),
        state.amount,
        ref,
        intent.payer_name,
        intent.description,
        paid_at=state.paid_at,
        note=reason,
    )
    if not reason:
        purpose.apply(intent, receipt)
    return receipt, reason


def _refund_if_due(intent: PaymentIntent) -> None:
    """Give back money that could not pay its application. A failure (gateway down) leaves
    `refund_due` set: `sweep_intents` tries again."""
    if not intent.refund_due or intent.receipt_id is None:
        return
    receipt = Receipt.objects.get(pk=intent.receipt_id)
    try:
        payments.refund_unapplied_gateway_receipt(receipt, intent.refund_due, f"auto:{intent.pk}")
    except DomainError as exc:
        logger.warning("automatic refund of %s failed: %s", receipt.number, exc)
        PaymentIntent.objects.filter(pk=intent.pk).update(error=str(exc.message)[:250])
        return
    intent.refresh_from_db()


def _refund_event(gw: PaymentGateway, event: GatewayEvent, intent: PaymentIntent) -> str:
    if not event.refund_id or event.refund_amount <= 0:
        raise GatewayError(_("The gateway's refund notice is incomplete."))
    ref = external_ref(gw.name, event.refund_id)
    with transaction.atomic():
        if not _claim(gw.name, event, intent):
            return DUPLICATE
        receipt_id = (
            PaymentIntent.objects.filter(pk=intent.pk).values_list("receipt_id", flat=True).first()
        )
        if receipt_id is None:
            # Raising rolls the claim back: the gateway's retry finds the payment recorded.
            raise PaymentNotRecordedYet(_("The payment of this refund is not recorded yet."))
        receipt = Receipt.objects.select_for_update().get(pk=receipt_id)
        if receipt.refunds.filter(external_ref=ref).exists():
            outcome = ALREADY_RECORDED  # our own refund, notified back to us
        else:
            with translation.override(settings.LANGUAGE_CODE):
                reason = str(_("Refund made at the payment gateway."))
            payments.record_gateway_refund(receipt, event.refund_amount, ref, reason)
            outcome = RECORDED
        GatewayWebhook.objects.filter(gateway=gw.name, event_id=event.event_id).update(
            outcome=outcome
        )
    return outcome


def refresh_intent(intent: PaymentIntent, *, expire: bool = True) -> PaymentIntent:
    """Ask the gateway about an intent that has no receipt yet (the browser came back before
    the webhook, the webhook never came, or a late success after we gave up) and apply the
    answer. An intent still open after its lifetime is marked expired when `expire`. A
    gateway that cannot be reached changes nothing."""
    intent.refresh_from_db()
    if not _gateway_may_know_more(intent):
        return intent
    state: PaymentState | None = None
    if intent.gateway_payment_id:
        try:
            state = get_gateway(intent.gateway).query(intent.gateway_payment_id)
        except (GatewayError, UnknownGateway) as exc:
            logger.info("status query for %s failed: %s", intent.pk, exc)
    with transaction.atomic():
        locked = _lock(intent)
        if state is not None:
            _apply(locked, state, via="query")
        overdue = expire and locked.is_open and locked.expires_at <= timezone.now()
        # Stop waiting when the gateway says the session is still open, or it never got the
        # payment at all; a gateway we could not ask may have taken the money: keep waiting.
        if overdue and (state is not None or not locked.gateway_payment_id):
            locked.status = IntentStatus.EXPIRED
            locked.completed_at = timezone.now()
            locked.save(update_fields=["status", "completed_at", "updated_at"])
            audit.record(
                "payments.intent_expired",
                obj=locked,
                gateway=locked.gateway,
                payment_id=locked.gateway_payment_id,
                via="expiry",
            )
    _refund_if_due(locked)
    return locked


# A client whose payer came back from the gateway asks once; one that asks in a loop must not
# make us hammer the gateway with status queries: past this it is told what we know.
CHECK_SCOPE = "payment_check"
CHECKS_PER_MINUTE = 6


def _gateway_may_know_more(intent: PaymentIntent) -> bool:
    """No receipt yet, and the intent is still open or the gateway has it (a late success
    after we gave up)."""
    return intent.receipt_id is None and (intent.is_open or bool(intent.gateway_payment_id))


def check_intent(intent: PaymentIntent) -> PaymentIntent:
    """The intent as it stands once the payer is back from the gateway's page (the API, and
    the return pages, which reload themselves): if the gateway may know more, it is asked
    (`refresh_intent`), so the answer does not wait for the webhook, which may come late. At
    most `CHECKS_PER_MINUTE` questions a minute per intent."""
    if not _gateway_may_know_more(intent):
        return intent
    key = str(intent.pk)
    if ratelimit.wait_seconds(CHECK_SCOPE, key, CHECKS_PER_MINUTE, 60):
        return intent
    ratelimit.hit(CHECK_SCOPE, key)
    return refresh_intent(intent)


@dataclass
class SweepTally:
    checked: int = 0
    succeeded: int = 0
    expired: int = 0
    refunds_retried: int = 0


def sweep_intents(*, limit: int = 200) -> SweepTally:
    """Periodic safety net (`baladiya manage payment_sweep`): settle intents past their
    lifetime by asking the gateway, and retry automatic refunds that failed."""
    tally = SweepTally()
    due = PaymentIntent.objects.filter(
        status__in=OPEN_INTENT_STATES, expires_at__lte=timezone.now()
    ).order_by("expires_at")[:limit]
    for intent in due:
        tally.checked += 1
        after = refresh_intent(intent)
        if after.status in (IntentStatus.SUCCEEDED, IntentStatus.REFUNDED):
            tally.succeeded += 1
        elif after.status == IntentStatus.EXPIRED:
            tally.expired += 1
    owed = PaymentIntent.objects.filter(status=IntentStatus.SUCCEEDED).exclude(refund_due="")
    for intent in owed[:limit]:
        tally.refunds_retried += 1
        _refund_if_due(intent)
    return tally


# ---------------------------------------------------------------- settlement files


def may_import_settlements(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.has_role(roles.FINANCE, roles.ADMIN)
    )


def may_read_settlements(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_role(roles.FINANCE, roles.ADMIN, roles.SUPERVISOR, roles.AUDITOR)
    )


def import_settlement(
    gateway: str, day: dt.date, actor: Any, content: bytes | None = None
) -> SettlementImport:
    """Import the gateway's settlement file for `day`: fetched from the gateway, or the
    `content` a finance officer uploaded. A later import of the same day replaces the
    earlier one in the reports (both are kept). Every line must be of that day."""
    staff = require_role(actor, roles.FINANCE, roles.ADMIN)
    gw = get_gateway(gateway)
    source = "uploaded" if content is not None else "fetched"
    raw = content if content is not None else gw.fetch_settlement(day)
    if len(raw) > MAX_SETTLEMENT_BYTES:
        raise SettlementFileError(_("The settlement file is too large."))
    records = gw.parse_settlement(raw)
    keys = [(r.kind, r.transaction_id) for r in records]
    if len(set(keys)) != len(keys):
        raise SettlementFileError(_("The settlement file lists a transaction twice."))
    for record in records:
        if record.occurred_at is not None and timezone.localdate(record.occurred_at) != day:
            raise SettlementFileError(
                _("This file lists transactions of another day (%(day)s).")
                % {"day": timezone.localdate(record.occurred_at).isoformat()}
            )
    with transaction.atomic():
        imp = SettlementImport.objects.create(
            gateway=gw.name,
            day=day,
            source=source,
            imported_by=staff,
            sha256=hashlib.sha256(raw).hexdigest(),
            content=raw.decode("utf-8", errors="replace"),
            line_count=len(records),
        )
        SettlementLine.objects.bulk_create(
            SettlementLine(
                settlement=imp,
                kind=r.kind,
                transaction_id=r.transaction_id,
                payment_id=r.payment_id,
                merchant_ref=r.merchant_ref,
                amount=r.amount,
                occurred_at=r.occurred_at,
            )
            for r in records
        )
        audit.record(
            "payments.settlement_imported",
            actor=staff,
            obj=imp,
            gateway=gw.name,
            day=day.isoformat(),
            source=source,
            lines=len(records),
            sha256=imp.sha256,
        )
    return imp
