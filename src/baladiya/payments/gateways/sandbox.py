"""The sandbox gateway: a test payment service that behaves like a real one.

- `start` opens a payment session with its own id (`sbx_…`) and a hosted page
  (`payments:sandbox_pay`) where the tester chooses: pay, decline, abandon (go back without
  paying) or time out (nothing happens: no redirect, no notification).
- Outcomes are notified by HMAC-signed webhooks through the outbox
  (`notifications.queue_webhook`): retried with backoff when our endpoint fails, optionally
  delivered twice (`SANDBOX_GATEWAY_DUPLICATE_WEBHOOKS`) or late
  (`SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS`), and — being queued — often after the browser
  came back. Abandoned and timed-out sessions are not notified (as with most gateways): our
  side learns of them by asking (`query`).
- A session stays payable for `SANDBOX_GATEWAY_SESSION_SECONDS` (default 1 h, longer than
  our own intent lifetime, so a late success after our side gave up can happen, as in life).
- Refunds (ours through `refund`, or made "at the gateway's dashboard" with
  `dashboard_refund`) are notified too; `fetch_settlement` writes the day's CSV.

Its books are `SandboxPayment` / `SandboxRefund`; nothing of ours is read here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.core.queries import unique_or_none
from baladiya.core.text import join_list
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.services import queue_webhook
from baladiya.payments.gateways import signing
from baladiya.payments.gateways.base import (
    EventKind,
    GatewayError,
    GatewayEvent,
    GatewayStatus,
    PaymentGateway,
    PaymentState,
    RefundResult,
    SettlementFileError,
    SettlementRecord,
    StartedPayment,
    StartRequest,
)
from baladiya.payments.models import SandboxPayment, SandboxRefund

NAME = "sandbox"
SIGNATURE_HEADER = "X-Sandbox-Signature"
CSV_COLUMNS = [
    "record_type",
    "transaction_id",
    "payment_id",
    "merchant_ref",
    "amount",
    "currency",
    "occurred_at",
]
ACTIONS = ("pay", "decline", "abandon", "timeout")
State = SandboxPayment.State


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def _session_seconds() -> int:
    return int(getattr(settings, "SANDBOX_GATEWAY_SESSION_SECONDS", 3600))


def _signing_secret() -> str:
    from baladiya.payments.gateways.registry import secrets_for

    return SandboxGateway(secrets_for(NAME)).require_secrets()[0]


class SandboxGateway(PaymentGateway):
    name = NAME
    label = _("Test gateway (sandbox)")
    external = False  # its hosted page is served by this node

    def start(self, request: StartRequest) -> StartedPayment:
        self.require_secrets()
        with transaction.atomic():
            # A retried start for the same order gets the same open session.
            existing = SandboxPayment.objects.filter(
                merchant_ref=request.merchant_ref, state=State.PENDING
            ).first()
            payment = existing or SandboxPayment.objects.create(
                payment_id=_new_id("sbx"),
                merchant_ref=request.merchant_ref,
                amount=request.amount,
                currency=request.currency,
                description=request.description[:250],
                return_url=request.return_url,
                notify_url=request.notify_url,
                expires_at=timezone.now() + dt.timedelta(seconds=_session_seconds()),
            )
        return StartedPayment(payment.payment_id, hosted_page_url(payment.payment_id))

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        signing.verify(headers.get(SIGNATURE_HEADER), body, self.require_secrets())
        return _parse_event(body)

    def query(self, payment_id: str) -> PaymentState:
        payment = unique_or_none(SandboxPayment.objects.filter(payment_id=payment_id))
        if payment is None:
            raise GatewayError(_("The gateway does not know this payment."))
        return _state(_expire_if_due(payment))

    def refund(self, payment_id: str, amount: int, reference: str) -> RefundResult:
        with transaction.atomic():
            payment = (
                SandboxPayment.objects.select_for_update().filter(payment_id=payment_id).first()
            )
            if payment is None or payment.state != State.SUCCEEDED:
                raise GatewayError(_("The gateway refused the refund: the payment was not made."))
            if reference:
                done = payment.refunds.filter(merchant_ref=reference).first()
                if done is not None:
                    if done.amount != amount:
                        raise GatewayError(
                            _("The gateway refused the refund: reference already used.")
                        )
                    return RefundResult(done.refund_id, done.amount)
            refund = _refund(payment, amount, reference)
        return RefundResult(refund.refund_id, refund.amount)

    def fetch_settlement(self, day: dt.date) -> bytes:
        return settlement_csv(day)

    def parse_settlement(self, content: bytes) -> list[SettlementRecord]:
        return parse_settlement_csv(content)


# ---------------------------------------------------------------- the gateway's own side


def hosted_page_url(payment_id: str) -> str:
    return reverse("payments:sandbox_pay", kwargs={"payment_id": payment_id})


def hosted_payment(payment_id: str) -> SandboxPayment | None:
    payment = unique_or_none(SandboxPayment.objects.filter(payment_id=payment_id))
    return _expire_if_due(payment) if payment is not None else None


def _expire_if_due(payment: SandboxPayment) -> SandboxPayment:
    if payment.state == State.PENDING and payment.expires_at <= timezone.now():
        SandboxPayment.objects.filter(pk=payment.pk, state=State.PENDING).update(
            state=State.EXPIRED, finished_at=payment.expires_at
        )
        payment.refresh_from_db()
    return payment


def act(payment_id: str, action: str) -> SandboxPayment:
    """The payer's choice on the hosted page. Only a pending session changes; a second click
    (or a click after expiry) leaves it as it is."""
    if action not in ACTIONS:
        raise GatewayError(_("Unknown choice."))
    with transaction.atomic():
        payment = unique_or_none(
            SandboxPayment.objects.select_for_update().filter(payment_id=payment_id)
        )
        if payment is None:
            raise GatewayError(_("The gateway does not know this payment."))
        payment = _expire_if_due(payment)
        if payment.state != State.PENDING or action == "timeout":
            return payment  # a timeout: the gateway hangs, nothing is sent anywhere
        now = timezone.now()
        payment.finished_at = now
        if action == "pay":
            payment.state = State.SUCCEEDED
            payment.captured_at = now
            payment.save(update_fields=["state", "captured_at", "finished_at"])
            _notify(payment, EventKind.PAYMENT_SUCCEEDED)
        elif action == "decline":
            payment.state = State.DECLINED
            payment.save(update_fields=["state", "finished_at"])
            _notify(payment, EventKind.PAYMENT_DECLINED)
        else:
            payment.state = State.ABANDONED
            payment.save(update_fields=["state", "finished_at"])
    return payment


def dashboard_refund(payment_id: str, amount: int) -> SandboxRefund:
    """A refund made by the gateway's operator, not asked for by us (it still comes to us as
    a webhook and in the settlement file)."""
    with transaction.atomic():
        payment = SandboxPayment.objects.select_for_update().get(payment_id=payment_id)
        if payment.state != State.SUCCEEDED:
            raise GatewayError(_("The gateway refused the refund: the payment was not made."))
        return _refund(payment, amount, "")


def _refund(payment: SandboxPayment, amount: int, reference: str) -> SandboxRefund:
    refunded = payment.refunds.aggregate(s=Sum("amount"))["s"] or 0
    if amount <= 0 or amount > payment.amount - refunded:
        raise GatewayError(_("The gateway refused the refund: more than what is left."))
    refund = SandboxRefund.objects.create(
        refund_id=_new_id("sbr"), payment=payment, merchant_ref=reference, amount=amount
    )
    _notify(payment, EventKind.REFUND_SUCCEEDED, refund)
    return refund


def _state(payment: SandboxPayment) -> PaymentState:
    return PaymentState(
        payment_id=payment.payment_id,
        merchant_ref=payment.merchant_ref,
        status=GatewayStatus(payment.state),
        amount=payment.amount,
        currency=payment.currency,
        paid_at=payment.captured_at,
    )


def _event_body(
    payment: SandboxPayment, kind: EventKind, refund: SandboxRefund | None
) -> tuple[str, str]:
    event_id = _new_id("evt")
    data: dict[str, Any] = {
        "payment_id": payment.payment_id,
        "merchant_ref": payment.merchant_ref,
        "status": payment.state,
        "amount": payment.amount,
        "currency": payment.currency,
        "paid_at": payment.captured_at.isoformat() if payment.captured_at else None,
    }
    if refund is not None:
        data["refund_id"] = refund.refund_id
        data["refund_amount"] = refund.amount
    body = {"id": event_id, "type": str(kind), "created": int(time.time()), "data": data}
    return event_id, json.dumps(body, sort_keys=True, separators=(",", ":"))


def _notify(payment: SandboxPayment, kind: EventKind, refund: SandboxRefund | None = None) -> None:
    """Queue the signed webhook (in the caller's transaction), maybe twice, maybe late."""
    event_id, body = _event_body(payment, kind, refund)
    headers = {SIGNATURE_HEADER: signing.sign(_signing_secret(), body.encode("utf-8"))}
    copies = 2 if getattr(settings, "SANDBOX_GATEWAY_DUPLICATE_WEBHOOKS", False) else 1
    delay = int(getattr(settings, "SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS", 0))
    for copy in range(copies):
        message = queue_webhook(
            payment.notify_url,
            body,
            headers,
            dedupe_key=f"{NAME}:{event_id}" + (f":copy{copy}" if copy else ""),
        )
        if message is not None and delay > 0:
            OutboxMessage.objects.filter(pk=message.pk).update(
                next_attempt_at=timezone.now() + dt.timedelta(seconds=delay)
            )


def _parse_event(body: bytes) -> GatewayEvent:
    try:
        doc = json.loads(body.decode("utf-8"))
        data = doc["data"]
        kind = EventKind(doc["type"])
        paid_at = dt.datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None
        if paid_at is not None and paid_at.tzinfo is None:
            raise ValueError("paid_at without a time zone")
        payment = PaymentState(
            payment_id=str(data["payment_id"]),
            merchant_ref=str(data.get("merchant_ref") or ""),
            status=GatewayStatus(data["status"]),
            amount=_whole(data["amount"]),
            currency=str(data["currency"]),
            paid_at=paid_at,
        )
        return GatewayEvent(
            event_id=str(doc["id"])[:100],
            kind=kind,
            payment=payment,
            occurred_at=dt.datetime.fromtimestamp(int(doc["created"]), tz=dt.UTC),
            refund_id=str(data.get("refund_id") or ""),
            refund_amount=_whole(data.get("refund_amount") or 0),
        )
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError) as exc:
        raise UnreadableEvent(_("The gateway's notification could not be read.")) from exc


class UnreadableEvent(GatewayError):
    """Signed but malformed: a 4xx, so the gateway stops retrying something that will never
    parse (a 5xx would make it retry forever)."""

    status = 400
    code = "unreadable_event"


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not an amount in piastres: {value!r}")
    return value


# ---------------------------------------------------------------- settlement file


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def settlement_csv(day: dt.date) -> bytes:
    """The payments captured and the refunds made on `day` (Damascus time), one per line."""
    start, end = _day_bounds(day)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in SandboxPayment.objects.filter(
        state=State.SUCCEEDED, captured_at__gte=start, captured_at__lt=end
    ).order_by("captured_at"):
        at = p.captured_at.isoformat() if p.captured_at else ""
        writer.writerow(
            ["payment", p.payment_id, p.payment_id, p.merchant_ref, p.amount, p.currency, at]
        )
    for r in (
        SandboxRefund.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("payment")
        .order_by("created_at")
    ):
        writer.writerow(
            [
                "refund",
                r.refund_id,
                r.payment.payment_id,
                r.payment.merchant_ref,
                r.amount,
                r.payment.currency,
                r.created_at.isoformat(),
            ]
        )
    return out.getvalue().encode("utf-8")


def parse_settlement_csv(content: bytes) -> list[SettlementRecord]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettlementFileError(_("The settlement file is not UTF-8 text.")) from exc
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or any(c not in reader.fieldnames for c in CSV_COLUMNS):
        raise SettlementFileError(
            _("The settlement file must have the columns: %(columns)s.")
            % {"columns": join_list(CSV_COLUMNS)}
        )
    records = []
    for number, row in enumerate(reader, start=2):
        try:
            kind = row["record_type"].strip()
            if kind not in ("payment", "refund"):
                raise ValueError(kind)
            amount_text = row["amount"].strip()
            if not amount_text.isdigit():
                raise ValueError(amount_text)
            occurred = row["occurred_at"].strip()
            at = dt.datetime.fromisoformat(occurred) if occurred else None
            if at is not None and at.tzinfo is None:
                raise ValueError(occurred)
            transaction_id = row["transaction_id"].strip()
            payment_id = row["payment_id"].strip()
            if not transaction_id or not payment_id or len(transaction_id) > 80:
                raise ValueError(transaction_id)
        except (ValueError, AttributeError):
            raise SettlementFileError(
                _("Line %(line)s of the settlement file cannot be read.") % {"line": number}
            ) from None
        records.append(
            SettlementRecord(
                kind=kind,
                transaction_id=transaction_id,
                payment_id=payment_id[:80],
                merchant_ref=(row["merchant_ref"] or "").strip()[:80],
                amount=int(amount_text),
                occurred_at=at,
            )
        )
    return records
