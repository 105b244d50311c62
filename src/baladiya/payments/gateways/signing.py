"""Webhook signatures: HMAC-SHA256 over `"<timestamp>." + raw body` with the gateway's secret.

Header value: `t=<unix seconds>,v1=<hex digest>` (several `v1=` are accepted, so a gateway
can sign with an old and a new secret while the secret is being rotated). The timestamp is
inside the signed text, so it cannot be changed, and a capture older than the tolerance is
refused: a replay of an old webhook fails even though its signature is genuine. Within the
tolerance a replay is harmless: the event id is recorded once (`GatewayWebhook`).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from baladiya.payments.gateways.base import BadSignature

MAX_HEADER = 1000


def tolerance_seconds() -> int:
    return int(getattr(settings, "PAYMENT_WEBHOOK_TOLERANCE_SECONDS", 900))


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header value for `body`, signed now (or at `timestamp`)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_digest(secret, moment, body)}"


def verify(
    header: str | None,
    body: bytes,
    secrets: list[str],
    *,
    now: float | None = None,
    tolerance: int | None = None,
) -> int:
    """Check `header` against `body`; return the signed timestamp or raise `BadSignature`."""
    if not header:
        raise BadSignature(_("The notification is not signed."))
    if len(header) > MAX_HEADER:
        raise BadSignature(_("The notification's signature is malformed."))
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise BadSignature(_("The notification's signature is malformed."))
    window = tolerance_seconds() if tolerance is None else tolerance
    current = time.time() if now is None else now
    if abs(current - timestamp) > window:
        raise BadSignature(_("The notification is too old (or from the future): refused."))
    for secret in secrets:
        expected = _digest(secret, timestamp, body)
        if any(hmac.compare_digest(expected, given) for given in candidates):
            return timestamp
    raise BadSignature(_("The notification's signature does not match."))
