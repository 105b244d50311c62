"""One-time login codes do not stay in clear text: the outbox blanks an OTP message once it is
sent, the periodic purge deletes those never sent once the code has expired (and blanks any
sent one left), and the sandbox gateway's SMS are deleted after a day. Other SMS keep their
text."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import serializers
from django.utils import timezone

from baladiya.accounts import otp
from baladiya.accounts.models import OtpCode
from baladiya.core.models import AuditEvent
from baladiya.core.periodic import purge_expired
from baladiya.notifications.models import OutboxMessage, SandboxSms
from baladiya.notifications.services import (
    OTP_DEDUPE_PREFIX,
    REDACTED,
    deliver_due,
    purge_secrets,
    queue_sms,
)

pytestmark = pytest.mark.django_db
PHONE = "+963944123456"
IP = "10.1.2.3"


@pytest.fixture(autouse=True)
def _sandbox(settings: Any) -> None:
    settings.SMS_SENDER = "baladiya.notifications.senders.SandboxSmsSender"
    settings.SMS_SANDBOX_FAILURE_RATE = 0.0
    settings.SMS_SANDBOX_DOWN_NUMBERS = []
    settings.OTP_CODE_TTL_SECONDS = 300


def _code_in_outbox() -> str:
    message = OutboxMessage.objects.get(dedupe_key__startswith=OTP_DEDUPE_PREFIX)
    match = re.search(r"[0-9]{6}", message.body)
    assert match, message.body
    return match.group(0)


def _dump(*models: Any) -> str:
    return "".join(serializers.serialize("json", m.objects.all()) for m in models)


def test_a_sent_code_is_blanked_in_the_outbox_and_the_phone_still_got_it() -> None:
    otp.request_code(PHONE, IP)
    code = _code_in_outbox()
    queue_sms(PHONE, "Homs City Council: application C03-26-000001 is ready.")
    assert deliver_due().sent == 2
    message = OutboxMessage.objects.get(dedupe_key__startswith=OTP_DEDUPE_PREFIX)
    assert message.state == "sent" and message.body == REDACTED
    assert code in SandboxSms.objects.get(text__contains=code).text  # the citizen's phone
    other = OutboxMessage.objects.exclude(pk=message.pk).get()
    assert other.body.endswith("is ready.")  # not a secret: kept for the record
    # "A copy of the table does not reveal them": not the outbox, the codes or the audit.
    assert code not in _dump(OutboxMessage, OtpCode, AuditEvent)
    assert otp.verify_code(PHONE, code, IP).username == PHONE  # blanking changes nothing else


def test_the_purge_deletes_expired_unsent_codes_and_old_sandbox_sms(settings: Any) -> None:
    settings.SMS_SANDBOX_DOWN_NUMBERS = [PHONE]  # the operator is down: the code stays queued
    otp.request_code(PHONE, IP)
    assert deliver_due().retried == 1
    stuck = OutboxMessage.objects.get()
    queue_sms(PHONE, "ordinary", dedupe_key="status:1")
    fresh_code = OutboxMessage.objects.create(
        kind="sms",
        recipient="+963955000111",
        body="654321 is your code",
        dedupe_key=f"{OTP_DEDUPE_PREFIX}fresh",
        next_attempt_at=timezone.now(),
    )
    legacy = OutboxMessage.objects.create(  # sent before blanking existed
        kind="sms",
        recipient=PHONE,
        body="111222 is your code",
        dedupe_key=f"{OTP_DEDUPE_PREFIX}legacy",
        state="sent",
        next_attempt_at=timezone.now(),
    )
    old_sms = SandboxSms.objects.create(phone=PHONE, text="333444", provider_ref="SMSold")
    new_sms = SandboxSms.objects.create(phone=PHONE, text="555666", provider_ref="SMSnew")
    long_ago = timezone.now() - dt.timedelta(days=1, minutes=1)
    SandboxSms.objects.filter(pk=old_sms.pk).update(created_at=long_ago)
    OutboxMessage.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=301)
    )
    OutboxMessage.objects.filter(dedupe_key="status:1").update(created_at=long_ago)

    assert purge_secrets() == (2, 1)  # the expired code deleted, the legacy one blanked
    assert not OutboxMessage.objects.filter(pk=stuck.pk).exists()  # never sent after all
    assert OutboxMessage.objects.get(pk=fresh_code.pk).body == "654321 is your code"  # live
    assert OutboxMessage.objects.get(pk=legacy.pk).body == REDACTED
    assert OutboxMessage.objects.get(dedupe_key="status:1").body == "ordinary"
    assert list(SandboxSms.objects.all()) == [new_sms]
    assert purge_secrets() == (0, 0)  # idempotent


def test_the_background_purge_runs_it() -> None:
    SandboxSms.objects.create(phone=PHONE, text="777888", provider_ref="SMSx")
    SandboxSms.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    assert "1 sandbox SMS" in purge_expired()
    assert not SandboxSms.objects.exists()
