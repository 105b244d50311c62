"""Queue messages in the caller's transaction; deliver them later with retries and backoff.

`queue_sms` / `queue_webhook` only insert a row, so they cost one INSERT inside the business
transaction and can never fail it because an operator is down. `deliver_due` (run by the
outbox pump, `baladiya outbox`) sends what is due, leases rows so that several pumps never
send the same message twice at once, and reschedules failures with exponential backoff.

One-time login codes (dedupe key starting `OTP_DEDUPE_PREFIX`) are secrets: their text is
blanked (`REDACTED`) as soon as the message is sent, and `purge_secrets` (the periodic purge)
deletes those never sent once the code has expired, and the sandbox gateway's day-old SMS.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from baladiya.core import audit
from baladiya.core.queries import unique_or_none
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.senders import PermanentFailure, TransientFailure, sms_sender

if TYPE_CHECKING:
    from baladiya.applications.models import Application
    from baladiya.payments.models import Refund

OTP_DEDUPE_PREFIX = "otp:"  # accounts.otp queues its codes under this prefix
REDACTED = "[redacted]"
LEASE = dt.timedelta(minutes=2)  # a pump that died mid-send frees its rows after this
FIRST_RETRY_SECONDS = 15
MAX_RETRY_SECONDS = 3600
State = OutboxMessage.State


def max_attempts() -> int:
    return int(getattr(settings, "OUTBOX_MAX_ATTEMPTS", 10))


def backoff(attempts: int) -> dt.timedelta:
    """15 s, 30 s, 1 min, 2 min … capped at an hour, with ±20 % jitter so that a thousand
    messages that failed together (an operator outage) do not all retry in the same second."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


def _queue(
    kind: str, recipient: str, body: str, headers: dict[str, str], dedupe_key: str | None
) -> OutboxMessage | None:
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        body=body,
        headers=headers,
        dedupe_key=dedupe_key,
        next_attempt_at=timezone.now(),
    )
    if not dedupe_key:  # nothing unique to collide with: a plain INSERT
        message.save(force_insert=True)
        return message
    # Dedupe keys name a row just created (history entry, code, refund, gateway event), so a
    # duplicate is rare: insert and let the unique key refuse it, rather than look it up
    # first. The savepoint keeps the caller's transaction usable when it does (a replay,
    # or a concurrent twin: PostgreSQL waits for the twin to commit, then refuses).
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        return None
    return message


def queue_sms(phone: str, text: str, *, dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue one SMS (None if this dedupe key was already queued, or no phone)."""
    if not phone:
        return None
    return _queue(OutboxMessage.Kind.SMS, phone, text, {}, dedupe_key)


def queue_webhook(
    url: str, payload: dict[str, Any] | str, headers: dict[str, str], *, dedupe_key: str | None
) -> OutboxMessage | None:
    body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return _queue(OutboxMessage.Kind.WEBHOOK, url, body, headers, dedupe_key)


# ---------------------------------------------------------------- delivery


@dataclass
class DeliveryTally:
    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead


def _claim(now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages and push their next attempt past the lease, atomically,
    so a second pump (or a second worker process) skips them.

    A center node sends nothing itself: its messages reach the central node with its other
    changes (sync) and are sent from there, where the SMS provider is (decision 0009)."""
    if str(settings.BALADIYA_NODE).startswith("center:"):
        return []
    with transaction.atomic():
        qs = OutboxMessage.objects.filter(state=State.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at"
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        batch = list(qs[:limit])
        OutboxMessage.objects.filter(pk__in=[m.pk for m in batch]).update(
            next_attempt_at=now + LEASE
        )
    return batch


def _transport(message: OutboxMessage) -> str:
    if message.kind == OutboxMessage.Kind.SMS:
        return sms_sender().send(message.recipient, message.body)
    post: Callable[[str, str, dict[str, str]], str] = import_string(
        getattr(settings, "WEBHOOK_TRANSPORT", "baladiya.notifications.senders.post_webhook")
    )
    return post(message.recipient, message.body, message.headers)


def _deliver_one(message: OutboxMessage, tally: DeliveryTally, when: dt.datetime) -> None:
    try:
        ref = _transport(message)
    except (TransientFailure, PermanentFailure) as exc:
        _failed(
            message, str(exc), permanent=isinstance(exc, PermanentFailure), tally=tally, when=when
        )
        return
    except Exception as exc:  # a bug in a sender must not stop the pump for everyone
        _failed(message, f"{type(exc).__name__}: {exc}", permanent=False, tally=tally, when=when)
        return
    done: dict[str, Any] = {}
    if is_secret(message):
        done["body"] = REDACTED  # the citizen has it now: no copy of the code stays here
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=State.SENT,
        attempts=message.attempts + 1,
        provider_ref=str(ref)[:100],
        sent_at=timezone.now(),
        last_error="",
        **done,
    )
    tally.sent += 1


def _failed(
    message: OutboxMessage, error: str, *, permanent: bool, tally: DeliveryTally, when: dt.datetime
) -> None:
    attempts = message.attempts + 1
    if permanent or attempts >= max_attempts():
        with transaction.atomic():
            OutboxMessage.objects.filter(pk=message.pk).update(
                state=State.DEAD, attempts=attempts, last_error=error[:500]
            )
            audit.record(
                "outbox.gave_up",
                actor=None,
                obj=message,
                kind=message.kind,
                recipient=message.recipient,
                attempts=attempts,
                error=error[:200],
            )
        tally.dead += 1
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=attempts,
        last_error=error[:500],
        # From the pass's clock: a failed message is never due again within the same pass.
        next_attempt_at=when + backoff(attempts),
    )
    tally.retried += 1


CLAIM_BATCH = 10  # 10 slow webhooks (10 s timeout each) still finish within one lease


def deliver_due(*, limit: int = 100, now: dt.datetime | None = None) -> DeliveryTally:
    """Send every due message (at most `limit`); safe to run from several processes.

    Delivery is at least once: if the pump dies after the operator accepted a message but
    before it is marked sent, the message goes again when its lease expires. Receivers dedupe
    (webhooks carry their event id; a duplicate status SMS is harmless).
    """
    tally = DeliveryTally()
    when = now or timezone.now()
    while tally.handled < limit:
        batch = _claim(when, min(CLAIM_BATCH, limit - tally.handled))
        if not batch:
            break
        for message in batch:
            _deliver_one(message, tally, when)
    return tally


def is_secret(message: OutboxMessage) -> bool:
    """A message whose text is a one-time login code."""
    return bool(message.dedupe_key and message.dedupe_key.startswith(OTP_DEDUPE_PREFIX))


def purge_secrets(now: dt.datetime | None = None) -> tuple[int, int]:
    """One-time codes: delete the SMS never sent (pending or given up) once the code has
    expired, blank any sent one still holding its text; delete the sandbox gateway's SMS
    older than a day. Returns (outbox messages deleted or blanked, sandbox SMS deleted)."""
    from baladiya.notifications.models import SandboxSms

    now = now or timezone.now()
    codes = OutboxMessage.objects.filter(dedupe_key__startswith=OTP_DEDUPE_PREFIX)
    expired = now - dt.timedelta(seconds=int(getattr(settings, "OTP_CODE_TTL_SECONDS", 300)))
    deleted, _counts = codes.filter(
        state__in=[State.PENDING, State.DEAD], created_at__lt=expired
    ).delete()
    blanked = codes.filter(state=State.SENT).exclude(body=REDACTED).update(body=REDACTED)
    old_sms, _counts = SandboxSms.objects.filter(created_at__lt=now - dt.timedelta(days=1)).delete()
    return deleted + blanked, old_sms


def retry_dead(message: OutboxMessage, actor: Any) -> None:
    """An administrator puts a message that gave up back in the queue (after fixing the cause)."""
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(pk=message.pk, state=State.DEAD).update(
            state=State.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if updated:
            audit.record("outbox.retried", actor=actor, obj=message, kind=message.kind)


# ---------------------------------------------------------------- citizen notifications


# A returned application's SMS fits in two parts: Arabic is sent in UCS-2, 70 characters for
# one part, 67 per part once split (the rest of each part carries the joining header).
SMS_PART_CHARS = 67
RETURNED_SMS_CHARS = 2 * SMS_PART_CHARS
MIN_NOTE_CHARS = 24  # even beside a long address, say something of what to correct


def sms_length(text: str) -> int:
    """Characters as the operator counts them in UCS-2 (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word to at most `limit` characters, with an ellipsis."""
    flat = " ".join(text.split())
    if sms_length(flat) <= limit:
        return flat
    cut = flat[: max(limit - 1, 0)]
    while sms_length(cut) > limit - 1:  # characters outside the BMP count twice
        cut = cut[:-1]
    if " " in cut[len(cut) // 2 :]:  # a word boundary in the second half: cut there
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ،,.؛;:") + "…"


def status_text(app: Application, note: str = "") -> str:
    """The SMS for a status change, in Arabic (citizens' phones), references kept LTR-safe.

    Returned for correction: what to correct (`note`, the reviewer's note, shortened so the
    whole message fits in two SMS parts) and where: the electronic center's address for an
    online application, the center that took it for a counter one.
    """
    with translation.override("ar"):
        if app.status == "returned":
            return _returned_text(app, note)
        status = app.get_status_display()
        text = _("Homs City Council: your application %(reference)s is now: %(status)s.") % {
            "reference": app.reference,
            "status": status,
        }
        if app.status == "dispatched":
            from baladiya.delivery.post.models import Shipment

            shipment = unique_or_none(Shipment.objects.filter(application_id=app.pk))
            if shipment is not None:
                text += " " + _("Tracking number %(number)s") % {"number": shipment.tracking_number}
        if app.status == "ready_for_pickup" and app.pickup_center_id:
            text += " " + _("Collect it at %(center)s with your ID card.") % {
                "center": app.pickup_center.name_ar  # type: ignore[union-attr]
            }
    return str(text)


def _returned_text(app: Application, note: str) -> str:
    head = _("Homs City Council: your application %(reference)s was returned for correction.") % {
        "reference": app.reference
    }
    if app.channel == "online":
        where = _("Correct it online at %(url)s") % {
            "url": settings.PUBLIC_BASE_URL + reverse("portal:home")
        }
    else:
        where = _("Correct it at %(center)s.") % {"center": app.center.name_ar}
    text = f"{head} {where}"
    if note.strip():
        empty = _("To correct: %(note)s") % {"note": ""}
        room = RETURNED_SMS_CHARS - sms_length(f"{text} {empty}")
        text += " " + _("To correct: %(note)s") % {"note": shorten(note, max(room, MIN_NOTE_CHARS))}
    return str(text)


def notify_status_change(app: Application, event_id: object, note: str = "") -> None:
    """Every status change a citizen can see is sent to the applicant's mobile, if known.
    `event_id` (the history entry) makes the message unique: a replay queues nothing.
    `note`: the history entry's note (what to correct, for a returned application)."""
    phone = app.applicant.phone
    if not phone:
        return
    message = OutboxMessage(
        kind=OutboxMessage.Kind.SMS,
        recipient=phone,
        body=status_text(app, note),
        headers={},
        dedupe_key=f"status:{event_id}",
        next_attempt_at=timezone.now(),
    )
    # The key names the history entry written just before in this transaction, so a twin is
    # all but impossible, and nobody needs to know whether this call queued it: INSERT … ON
    # CONFLICT DO NOTHING (SQLite: INSERT OR IGNORE) is one statement, no savepoint, and a
    # replay still queues nothing without failing the status change.
    OutboxMessage.objects.bulk_create([message], ignore_conflicts=True)
    if str(settings.BALADIYA_NODE).startswith("center:"):
        # No signal for bulk_create: a center relays its SMS through sync (decision 0009).
        from baladiya.sync.capture import rows_changed

        rows_changed(OutboxMessage, [message.pk])


def notify_refund(refund: Refund) -> None:
    """Money given back (at the counter, through the gateway, or automatically because a late
    payment found nothing to pay for) is always told to the payer's mobile, if known."""
    from baladiya.core.money import format_pounds

    app = refund.receipt.application
    if app is None:  # an online payment of something else (water bills): its payer
        intent = getattr(refund.receipt, "payment_intent", None)
        phone = intent.payer_phone if intent is not None else ""
        with translation.override("ar"):
            text = _(
                "Homs City Council: %(amount)s SYP of receipt %(receipt)s have been refunded."
            ) % {"amount": format_pounds(refund.amount), "receipt": refund.receipt.number}
        if phone:
            queue_sms(phone, str(text), dedupe_key=f"refund:{refund.pk}")
        return
    with translation.override("ar"):
        text = _(
            "Homs City Council: %(amount)s SYP of receipt %(receipt)s have been refunded"
            " (application %(reference)s)."
        ) % {
            "amount": format_pounds(refund.amount),
            "receipt": refund.receipt.number,
            "reference": app.reference,
        }
    queue_sms(app.applicant.phone, str(text), dedupe_key=f"refund:{refund.pk}")
