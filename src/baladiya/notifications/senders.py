"""Outside systems the outbox talks to, behind small interfaces with sandbox implementations.

`SMS_SENDER` (setting, an import path) picks the SMS gateway. A sender raises
`TransientFailure` for what a retry may fix (timeouts, 5xx, throttling) and
`PermanentFailure` for what it cannot (an invalid number).
"""

from __future__ import annotations

import random
import secrets
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class TransientFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """Retrying will not help; the message goes to the dead list for a human."""


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Hand the message to the operator; return the operator's message id."""
        ...


class SandboxSmsSender:
    """Behaves like an SMS aggregator: accepts +963 mobiles, sometimes fails transiently
    (`SMS_SANDBOX_FAILURE_RATE`), always fails for the numbers in `SMS_SANDBOX_DOWN_NUMBERS`
    (to test retries), and keeps what it 'delivered' in `SandboxSms`."""

    def send(self, phone: str, text: str) -> str:
        from baladiya.notifications.models import SandboxSms

        if not (phone.startswith("+9639") and len(phone) == 13 and phone[1:].isdigit()):
            raise PermanentFailure(f"not a Syrian mobile number: {phone}")
        if phone in getattr(settings, "SMS_SANDBOX_DOWN_NUMBERS", ()):
            raise TransientFailure("operator unreachable (sandbox)")
        rate = float(getattr(settings, "SMS_SANDBOX_FAILURE_RATE", 0.0))
        if rate and random.random() < rate:
            raise TransientFailure("gateway timeout (sandbox)")
        ref = "SMS" + secrets.token_hex(8)
        SandboxSms.objects.create(phone=phone, text=text, provider_ref=ref)
        return ref


def sms_sender() -> SmsSender:
    path = getattr(settings, "SMS_SENDER", "")
    if not path:  # production with no operator named: keep the messages queued, say why
        raise TransientFailure("no SMS gateway is configured (BALADIYA_SMS_SENDER)")
    sender: SmsSender = import_string(path)()
    return sender


def post_webhook(url: str, body: str, headers: dict[str, str]) -> str:
    """POST a JSON body; 2xx is delivered, anything else is retried (as real gateways do)."""
    if not url.startswith(("http://", "https://")):
        raise PermanentFailure(f"not an http(s) URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    timeout = float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        raise TransientFailure(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise TransientFailure(str(getattr(exc, "reason", exc))[:200]) from exc
