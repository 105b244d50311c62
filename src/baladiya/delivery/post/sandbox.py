"""A sandbox post office that behaves like the real one.

- Tracking numbers in the UPU S10 format Syrian Post uses for registered mail: `RR` + 8-digit
  serial + check digit + `SY` (e.g. `RR000000125SY`), from a gap-free series; registering the
  same client reference twice returns the same number.
- Nothing happens by itself: `advance()` / `simulate()` (the `post_simulate` management command,
  `baladiya post simulate`, or the developers' sandbox page) move parcels on, and each event is
  sent later to our callback through the outbox (`notifications.queue_webhook`: retries with
  backoff), signed with HMAC-SHA256 like a real carrier's webhook:

      X-Post-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

  On request a callback is sent twice, or the events of a parcel are queued in reverse order,
  as real carriers do on a bad day.
- `POST_SANDBOX_DOWN=True` makes `dispatch` fail (the post office is unreachable).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from baladiya.core.numbering import next_value
from baladiya.delivery.post.interface import (
    BadCallback,
    EventKind,
    Parcel,
    PostalError,
    PostalEvent,
)
from baladiya.delivery.post.models import SandboxParcel
from baladiya.delivery.post.simulate_args import OUTCOMES

SIGNATURE_HEADER = "X-Post-Signature"
SERVICE_INDICATOR = "RR"  # registered letter
COUNTRY = "SY"
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
DEFAULT_TOLERANCE_SECONDS = 3 * 24 * 3600  # the outbox signs once, then retries for hours

OFFICE = "مكتب بريد حمص المركزي"
SORTING = "مركز الفرز — حمص"
FAILURE_REASONS = ("العنوان غير كاف", "المستلم غير موجود في العنوان", "رفض المستلم الاستلام")

_STEPS: dict[str, tuple[str, ...]] = {
    "transit": (EventKind.IN_TRANSIT,),
    "deliver": (EventKind.IN_TRANSIT, EventKind.OUT_FOR_DELIVERY, EventKind.DELIVERED),
    "return": (EventKind.IN_TRANSIT, EventKind.DELIVERY_FAILED, EventKind.RETURNED),
}


# ---------------------------------------------------------------- tracking numbers


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    if len(serial) != 8 or not serial.isdigit():
        raise ValueError("an S10 serial has 8 digits")
    total = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def tracking_number(serial: int) -> str:
    digits = f"{serial:08d}"
    return f"{SERVICE_INDICATOR}{digits}{s10_check_digit(digits)}{COUNTRY}"


def is_tracking_number(text: str) -> bool:
    """Two letters, 8 digits, the right check digit, two letters (any S10 item)."""
    text = text.strip().upper()
    if len(text) != 13 or not (text[:2].isalpha() and text[11:].isalpha()):
        return False
    serial, check = text[2:10], text[10]
    return serial.isdigit() and check.isdigit() and s10_check_digit(serial) == int(check)


# ---------------------------------------------------------------- signatures


def callback_secret() -> bytes:
    """The secret shared with the post office (`POST_CALLBACK_SECRET`; derived from
    SECRET_KEY when unset, which is enough for the sandbox)."""
    configured = str(getattr(settings, "POST_CALLBACK_SECRET", "") or "")
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"baladiya.post.callback", "sha256").digest()


def sign(body: bytes, *, timestamp: int | None = None, secret: bytes | None = None) -> str:
    """The `X-Post-Signature` header value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    key = callback_secret() if secret is None else secret
    mac = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict (tests, other frameworks): look case-insensitively
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return str(value or "")


def check_signature(body: bytes, header: str, *, now: float | None = None) -> None:
    """Raise `BadCallback` unless `header` signs `body` with our secret, recently enough."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        t = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise BadCallback(
            "missing or malformed signature", code="bad_signature", status=401
        ) from exc
    expected = sign(body, timestamp=t)
    if not any(
        hmac.compare_digest(expected, f"t={t},v1={candidate}") for candidate in parts.get("v1", [])
    ):
        raise BadCallback("signature does not match", code="bad_signature", status=401)
    tolerance = int(getattr(settings, "POST_CALLBACK_TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS))
    current = time.time() if now is None else now
    if t < current - tolerance or t > current + 300:
        raise BadCallback("signature too old (replayed?)", code="stale_signature", status=401)


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise BadCallback(f"field {name!r} is missing or invalid", code="bad_payload")
    return value.strip()


def event_from_json(data: Any) -> PostalEvent:
    """Read one event from a callback body (already signature-checked)."""
    if not isinstance(data, dict):
        raise BadCallback("the body is not a JSON object", code="bad_payload")
    kind = _text(data, "type", 20)
    if kind not in EventKind.values:
        raise BadCallback(f"unknown event type {kind!r}", code="bad_payload")
    try:
        occurred = dt.datetime.fromisoformat(_text(data, "occurred_at", 40))
    except ValueError as exc:
        raise BadCallback("occurred_at is not an ISO date-time", code="bad_payload") from exc
    if occurred.tzinfo is None:
        raise BadCallback("occurred_at has no time zone", code="bad_payload")
    return PostalEvent(
        event_id=_text(data, "event_id", 80),
        tracking_number=_text(data, "tracking_number", 40).upper(),
        kind=kind,
        occurred_at=occurred,
        location=_text(data, "location", 200, required=False),
        detail=_text(data, "detail", 300, required=False),
    )


def event_to_json(event: PostalEvent) -> dict[str, str]:
    return {
        "event_id": event.event_id,
        "tracking_number": event.tracking_number,
        "type": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "location": event.location,
        "detail": event.detail,
    }


# ---------------------------------------------------------------- the post office


class SandboxPostalService:
    """The sandbox carrier (`POSTAL_SERVICE = "baladiya.delivery.post.sandbox.SandboxPostalService"`)."""

    code = "sandbox"

    def dispatch(self, parcel: Parcel) -> str:
        if getattr(settings, "POST_SANDBOX_DOWN", False):
            raise PostalError("post office unreachable (sandbox)")
        if not parcel.address_line.strip():
            raise PostalError("no delivery address")
        with transaction.atomic():
            known = SandboxParcel.objects.filter(client_reference=parcel.reference).first()
            if known is not None:  # a retried request: the parcel is already registered
                return known.tracking_number
            number = tracking_number(next_value("POST-SANDBOX", SERVICE_INDICATOR))
            SandboxParcel.objects.create(
                tracking_number=number,
                client_reference=parcel.reference,
                recipient_name=parcel.recipient_name,
                address={
                    "line": parcel.address_line,
                    "neighbourhood": parcel.neighbourhood,
                    "phone": parcel.phone,
                },
                events=[_event_row(EventKind.ACCEPTED, timezone.now(), OFFICE)],
            )
        return number

    def track(self, tracking_number: str) -> list[PostalEvent]:
        parcel = SandboxParcel.objects.filter(tracking_number=tracking_number.upper()).first()
        if parcel is None:
            raise PostalError(f"unknown tracking number {tracking_number}")
        return [_postal_event(parcel, row) for row in parcel.events]

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PostalEvent:
        check_signature(body, _header(headers, SIGNATURE_HEADER))
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadCallback("the body is not JSON", code="bad_payload") from exc
        return event_from_json(data)


def _event_row(kind: str, at: dt.datetime, location: str, detail: str = "") -> dict[str, str]:
    return {
        "id": "EV" + secrets.token_hex(10).upper(),
        "kind": str(kind),
        "at": at.isoformat(),
        "location": location,
        "detail": detail,
    }


def _postal_event(parcel: SandboxParcel, row: dict[str, str]) -> PostalEvent:
    return PostalEvent(
        event_id=row["id"],
        tracking_number=parcel.tracking_number,
        kind=row["kind"],
        occurred_at=dt.datetime.fromisoformat(row["at"]),
        location=row.get("location", ""),
        detail=row.get("detail", ""),
    )


# ---------------------------------------------------------------- moving parcels on


def callback_url() -> str:
    """Where the sandbox sends its events: `POST_CALLBACK_URL`, else this node's endpoint."""
    configured = str(getattr(settings, "POST_CALLBACK_URL", "") or "")
    return configured or settings.PUBLIC_BASE_URL + reverse("delivery:post_callback")


def send_callback(event: PostalEvent, *, copy: int = 0) -> None:
    """Queue one signed callback in the outbox (delivered later, retried until it gets a 2xx)."""
    from baladiya.notifications.services import queue_webhook

    body = json.dumps(event_to_json(event), ensure_ascii=False)
    queue_webhook(
        callback_url(),
        body,
        {SIGNATURE_HEADER: sign(body.encode("utf-8"))},
        dedupe_key=f"post-sandbox:{event.event_id}" + (f":{copy}" if copy else ""),
    )


def advance(
    parcel: SandboxParcel,
    outcome: str,
    *,
    notify: bool = True,
    duplicate: bool = False,
    reverse_order: bool = False,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
) -> list[PostalEvent]:
    """Move one open parcel on: `deliver`, `return` (after a failed attempt) or `transit`.

    Returns the new events; with `notify` each is queued as a signed callback (twice with
    `duplicate`; last event first with `reverse_order`). A closed parcel gets nothing more.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
    pick = rng or random.Random()
    with transaction.atomic():
        locked = SandboxParcel.objects.select_for_update().get(pk=parcel.pk)
        if locked.state != SandboxParcel.State.OPEN:
            return []
        seen = {row["kind"] for row in locked.events}
        kinds = [k for k in _STEPS[outcome] if k not in seen or k in {EventKind.DELIVERY_FAILED}]
        end = now or timezone.now()
        step = _event_spacing(locked, len(kinds), end)
        neighbourhood = str(locked.address.get("neighbourhood", "") or "")
        rows = []
        for i, kind in enumerate(kinds):
            at = end - step * (len(kinds) - 1 - i)
            location = SORTING if kind == EventKind.IN_TRANSIT else (neighbourhood or OFFICE)
            detail = pick.choice(FAILURE_REASONS) if kind == EventKind.DELIVERY_FAILED else ""
            if kind == EventKind.RETURNED:
                location, detail = OFFICE, "أعيد إلى المرسل بعد تعذر التسليم"
            rows.append(_event_row(kind, at, location, detail))
        locked.events = [*locked.events, *rows]
        if outcome == "deliver":
            locked.state = SandboxParcel.State.DELIVERED
        elif outcome == "return":
            locked.state = SandboxParcel.State.RETURNED
        locked.save(update_fields=["events", "state"])
        events = [_postal_event(locked, row) for row in rows]
        if notify:
            for event in reversed(events) if reverse_order else events:
                send_callback(event)
                if duplicate:
                    send_callback(event, copy=1)
    parcel.refresh_from_db()
    return events


EVENT_SPACING = dt.timedelta(minutes=20)


def _event_spacing(parcel: SandboxParcel, count: int, end: dt.datetime) -> dt.timedelta:
    """Time between the `count` new events ending at `end`: 20 minutes, closer when the
    parcel was handed in (or last moved) less long ago, so that no event comes before it."""
    if count < 2:
        return dt.timedelta(0)
    since = parcel.created_at
    if parcel.events:
        since = max(since, dt.datetime.fromisoformat(parcel.events[-1]["at"]))
    room = max(end - since, dt.timedelta(0)) / count
    return min(EVENT_SPACING, room)


@dataclass
class SimulationTally:
    delivered: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    in_transit: list[str] = field(default_factory=list)
    callbacks: int = 0


def simulate(
    tracking_numbers: Iterable[str] = (),
    *,
    outcome: str = "auto",
    older_than: dt.timedelta | None = None,
    duplicate: bool = False,
    reverse_order: bool = False,
    chaos: bool = False,
    seed: int | None = None,
) -> SimulationTally:
    """Advance open sandbox parcels (all, or those listed). `auto` returns a share
    `POST_SANDBOX_RETURN_RATE` (default 10 %) to the sender and delivers the rest; `chaos`
    sends a random third of the callbacks twice and reorders another third."""
    rng = random.Random(seed)
    qs = SandboxParcel.objects.filter(state=SandboxParcel.State.OPEN).order_by("tracking_number")
    wanted = [n.strip().upper() for n in tracking_numbers if n.strip()]
    if wanted:
        qs = qs.filter(tracking_number__in=wanted)
    if older_than is not None:
        qs = qs.filter(created_at__lte=timezone.now() - older_than)
    rate = float(getattr(settings, "POST_SANDBOX_RETURN_RATE", 0.1))
    tally = SimulationTally()
    for parcel in qs:
        chosen = outcome
        if outcome == "auto":
            chosen = "return" if rng.random() < rate else "deliver"
        twice = duplicate or (chaos and rng.random() < 1 / 3)
        backwards = reverse_order or (chaos and rng.random() < 1 / 3)
        events = advance(parcel, chosen, duplicate=twice, reverse_order=backwards, rng=rng)
        tally.callbacks += len(events) * (2 if twice else 1)
        {"deliver": tally.delivered, "return": tally.returned, "transit": tally.in_transit}[
            chosen
        ].append(parcel.tracking_number)
    return tally
