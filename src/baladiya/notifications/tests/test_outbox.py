"""The outbox: queued with the business change, delivered later, retried, never lost."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.cli import main
from baladiya.core.models import AuditEvent
from baladiya.notifications.models import OutboxMessage, SandboxSms
from baladiya.notifications.services import (
    backoff,
    deliver_due,
    queue_sms,
    queue_webhook,
)

pytestmark = pytest.mark.django_db
PHONE = "+963944123456"
LATER = dt.timedelta(days=2)  # far enough for every backoff to be due


def _submit(clerk: User, citizen: Citizen, service: Service, center: Center) -> Application:
    sub = apps.Submission(
        service=service,
        applicant=citizen,
        center=center,
        fields={"purpose": "مصرف"},
        pickup_center=center,
    )
    return apps.submit_application(clerk, sub)


def test_a_status_change_queues_an_arabic_sms_to_the_applicant(
    clerk: User, citizen: Citizen, service: Service, center: Center
) -> None:
    app = _submit(clerk, citizen, service, center)
    apps.cancel(app, clerk, "طلب المواطن")
    messages = list(OutboxMessage.objects.order_by("created_at"))
    assert [m.recipient for m in messages] == [citizen.phone, citizen.phone]
    assert app.reference in messages[1].body and "ملغ" in messages[1].body  # ملغى / ملغاة
    assert deliver_due().sent == 2
    inbox = list(SandboxSms.objects.filter(phone=citizen.phone))
    assert len(inbox) == 2 and all(app.reference in sms.text for sms in inbox)


def test_no_message_survives_a_rolled_back_change() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_sms(PHONE, "نص")
        raise RuntimeError("the business change failed")
    assert not OutboxMessage.objects.exists()


def test_the_same_key_queues_one_message() -> None:
    assert queue_sms(PHONE, "one", dedupe_key="k1") is not None
    assert queue_sms(PHONE, "one again", dedupe_key="k1") is None
    assert OutboxMessage.objects.count() == 1


def test_a_down_operator_never_fails_the_application_and_is_retried_with_backoff(
    clerk: User, citizen: Citizen, service: Service, center: Center, settings: Any
) -> None:
    settings.SMS_SANDBOX_DOWN_NUMBERS = [citizen.phone]
    app = _submit(clerk, citizen, service, center)
    assert Application.objects.filter(pk=app.pk, status="submitted").exists()

    tally = deliver_due()
    assert (tally.sent, tally.retried) == (0, 1)
    message = OutboxMessage.objects.get()
    assert message.state == "pending" and message.attempts == 1
    assert message.next_attempt_at > timezone.now()
    assert "unreachable" in message.last_error
    assert deliver_due().handled == 0  # not due yet

    settings.SMS_SANDBOX_DOWN_NUMBERS = []  # the operator is back
    assert deliver_due(now=timezone.now() + LATER).sent == 1
    assert SandboxSms.objects.filter(phone=citizen.phone).count() == 1


def test_backoff_grows_and_is_capped() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 15)]
    assert 12 <= waits[0] <= 18
    assert waits[3] > waits[2] > waits[1] > waits[0]
    assert max(waits) <= 3600 * 1.2


def test_after_too_many_attempts_the_message_is_dead_and_audited(settings: Any) -> None:
    settings.SMS_SANDBOX_DOWN_NUMBERS = [PHONE]
    settings.OUTBOX_MAX_ATTEMPTS = 3
    queue_sms(PHONE, "رمز")
    now = timezone.now()
    for _ in range(3):
        now += LATER
        deliver_due(now=now)
    message = OutboxMessage.objects.get()
    assert message.state == "dead" and message.attempts == 3
    assert AuditEvent.objects.filter(action="outbox.gave_up").count() == 1
    assert deliver_due(now=now + LATER).handled == 0


def test_an_invalid_number_is_given_up_at_once() -> None:
    queue_sms("0944", "رمز")
    assert deliver_due().dead == 1
    assert OutboxMessage.objects.get().state == "dead"


def test_a_second_pump_does_not_send_what_the_first_has_claimed() -> None:
    from baladiya.notifications.services import _claim

    queue_sms(PHONE, "one")
    now = timezone.now()
    assert len(_claim(now, 10)) == 1
    assert _claim(now, 10) == []  # leased by the first pump
    # If the first pump died, the lease expires and the message is sent after all.
    assert deliver_due(now=now + dt.timedelta(minutes=5)).sent == 1


delivered: list[tuple[str, str, dict[str, str]]] = []
failures: list[int] = []


def flaky_transport(url: str, body: str, headers: dict[str, str]) -> str:
    """Fails as often as `failures` says, then accepts (a receiver that was briefly down)."""
    if failures:
        failures.pop()
        from baladiya.notifications.senders import TransientFailure

        raise TransientFailure("HTTP 503")
    delivered.append((url, body, headers))
    return "HTTP 200"


def test_webhooks_are_posted_with_their_headers_and_retried(settings: Any) -> None:
    settings.WEBHOOK_TRANSPORT = f"{__name__}.flaky_transport"
    delivered.clear()
    failures[:] = [1, 1]
    queue_webhook(
        "http://127.0.0.1:9/hook", {"event": "paid"}, {"X-Signature": "abc"}, dedupe_key="w1"
    )
    now = timezone.now()
    assert deliver_due(now=now).retried == 1
    assert deliver_due(now=now + LATER).retried == 1
    assert deliver_due(now=now + 2 * LATER).sent == 1
    url, body, headers = delivered[0]
    assert url == "http://127.0.0.1:9/hook" and json.loads(body) == {"event": "paid"}
    assert headers == {"X-Signature": "abc"}
    assert OutboxMessage.objects.get().attempts == 3


def test_cli_outbox_once_delivers(capsys: pytest.CaptureFixture[str]) -> None:
    queue_sms(PHONE, "رمز التحقق 123456")
    assert main(["outbox", "--once"]) == 0
    assert "sent 1" in capsys.readouterr().out
    assert SandboxSms.objects.get().text == "رمز التحقق 123456"


def test_a_production_node_without_an_sms_gateway_keeps_messages_and_says_why(
    settings: Any,
) -> None:
    from baladiya.notifications.checks import outside_systems

    settings.SMS_SENDER = ""
    settings.POSTAL_SERVICE = ""
    queue_sms(PHONE, "رمز")
    assert deliver_due().retried == 1
    message = OutboxMessage.objects.get()
    assert message.state == "pending" and "BALADIYA_SMS_SENDER" in message.last_error
    ids = {w.id for w in outside_systems()}
    assert {"baladiya.W001", "baladiya.W002"} <= ids


def test_an_administrator_puts_a_given_up_message_back_in_the_queue(
    admin_user: User, settings: Any
) -> None:
    from django.test import Client

    settings.SMS_SANDBOX_DOWN_NUMBERS = [PHONE]
    settings.OUTBOX_MAX_ATTEMPTS = 1
    queue_sms(PHONE, "نص")
    deliver_due()
    message = OutboxMessage.objects.get()
    assert message.state == "dead"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    listing = client.get("/admin/notifications/outboxmessage/?state=dead")
    assert listing.status_code == 200 and PHONE in listing.content.decode()
    client.post(
        "/admin/notifications/outboxmessage/",
        {"action": "retry_given_up", "_selected_action": [str(message.pk)]},
    )
    message.refresh_from_db()
    assert message.state == "pending" and message.attempts == 0
    assert AuditEvent.objects.filter(action="outbox.retried").count() == 1
    settings.SMS_SANDBOX_DOWN_NUMBERS = []
    assert deliver_due().sent == 1


def test_one_pass_sends_more_than_one_claim_batch() -> None:
    for n in range(25):
        queue_sms(PHONE, f"رسالة {n}")
    assert deliver_due(limit=100).sent == 25
