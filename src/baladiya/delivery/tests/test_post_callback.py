"""The post office's signed callback: only genuine events count, each once, in any order."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.core.audit import verify_chain
from baladiya.core.models import AuditEvent
from baladiya.core.testing import in_threads
from baladiya.delivery.models import Shipment, ShipmentEvent
from baladiya.delivery.post.interface import EventKind, PostalEvent
from baladiya.delivery.post.sandbox import event_to_json, sign
from baladiya.delivery.post.services import dispatch, handle_postal_event
from baladiya.delivery.tests.conftest import SECRET

pytestmark = pytest.mark.django_db
URL = "/delivery/post/callback/"


@pytest.fixture
def shipment(post_app: Application, civil_officer: User) -> Shipment:
    return dispatch(post_app, civil_officer)


def _event(
    shipment: Shipment, kind: str, *, event_id: str = "", minutes: int = 0, detail: str = ""
) -> PostalEvent:
    return PostalEvent(
        event_id=event_id or f"EV-{kind}-{minutes}",
        tracking_number=shipment.tracking_number,
        kind=kind,
        occurred_at=timezone.now() + dt.timedelta(minutes=minutes),
        location="مكتب بريد حمص المركزي",
        detail=detail,
    )


def _post(
    event: PostalEvent | dict[str, object] | bytes,
    *,
    signature: str | None = None,
    secret: str = SECRET,
    timestamp: int | None = None,
) -> tuple[int, dict[str, object]]:
    if isinstance(event, bytes):
        body = event
    else:
        data = event_to_json(event) if isinstance(event, PostalEvent) else event
        body = json.dumps(data, ensure_ascii=False).encode()
    header = (
        signature
        if signature is not None
        else sign(body, timestamp=timestamp, secret=secret.encode())
    )
    headers = {"X-Post-Signature": header} if header else {}
    response = Client().post(URL, data=body, content_type="application/json", headers=headers)
    return response.status_code, response.json()


def _status(app: Application) -> str:
    return Application.objects.get(pk=app.pk).status


# ---------------------------------------------------------------- signatures


def test_a_genuine_delivered_event_delivers(shipment: Shipment, post_app: Application) -> None:
    assert _post(_event(shipment, EventKind.DELIVERED)) == (200, {"status": "applied"})
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DELIVERED
    assert _status(post_app) == Status.DELIVERED
    assert post_app.events.filter(action="deliver", actor=None).exists()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "application.deliver" in actions and "post.event" in actions
    assert verify_chain() == []


@pytest.mark.parametrize(
    "case",
    ["no signature", "wrong secret", "garbage", "no timestamp", "stale", "from the future"],
)
def test_forged_or_stale_callbacks_change_nothing(
    shipment: Shipment, post_app: Application, case: str
) -> None:
    event = _event(shipment, EventKind.DELIVERED)
    now = int(time.time())
    kwargs: dict[str, object] = {
        "no signature": {"signature": ""},
        "wrong secret": {"secret": "guessed"},
        "garbage": {"signature": "t=1,v1=deadbeef"},
        "no timestamp": {"signature": "v1=" + "0" * 64},
        "stale": {"timestamp": now - 4 * 24 * 3600},
        "from the future": {"timestamp": now + 3600},
    }[case]  # type: ignore[assignment]
    audit_before = AuditEvent.objects.count()
    status, body = _post(event, **kwargs)  # type: ignore[arg-type]
    assert status == 401
    assert body["code"] in {"bad_signature", "stale_signature"}
    assert _status(post_app) == Status.DISPATCHED
    assert ShipmentEvent.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


def test_a_tampered_body_is_refused(shipment: Shipment, post_app: Application) -> None:
    genuine = json.dumps(event_to_json(_event(shipment, EventKind.IN_TRANSIT))).encode()
    header = sign(genuine, secret=SECRET.encode())
    tampered = genuine.replace(b"in_transit", b"delivered")
    assert _post(tampered, signature=header)[0] == 401
    assert _status(post_app) == Status.DISPATCHED


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"event_id": "E1", "tracking_number": "RR1", "type": "lost"}).encode(),
        json.dumps(
            {"event_id": "E1", "tracking_number": "RR1", "type": "delivered", "occurred_at": "x"}
        ).encode(),
        json.dumps(
            {
                "event_id": "E1",
                "tracking_number": "RR1",
                "type": "delivered",
                "occurred_at": "2026-05-01T10:00:00",  # no time zone
            }
        ).encode(),
    ],
)
def test_a_signed_but_malformed_body_is_a_400(shipment: Shipment, body: bytes) -> None:
    status, answer = _post(body)
    assert status == 400
    assert answer["code"] == "bad_payload"


def test_an_unknown_tracking_number_is_a_404_so_the_post_retries(shipment: Shipment) -> None:
    event = PostalEvent("EV1", "RR999999995SY", EventKind.DELIVERED, timezone.now())
    assert _post(event)[0] == 404


def test_only_post_is_accepted(shipment: Shipment) -> None:
    assert Client().get(URL).status_code == 405


# ---------------------------------------------------------------- replays and order


def test_a_replayed_callback_changes_nothing(shipment: Shipment, post_app: Application) -> None:
    body = json.dumps(event_to_json(_event(shipment, EventKind.DELIVERED))).encode()
    header = sign(body, secret=SECRET.encode())
    assert _post(body, signature=header) == (200, {"status": "applied"})
    snapshot = (
        post_app.events.count(),
        AuditEvent.objects.count(),
        ShipmentEvent.objects.count(),
    )
    for _ in range(3):
        assert _post(body, signature=header) == (200, {"status": "duplicate"})
    assert (
        post_app.events.count(),
        AuditEvent.objects.count(),
        ShipmentEvent.objects.count(),
    ) == snapshot
    assert _status(post_app) == Status.DELIVERED


def test_delivered_after_returned_never_resurrects(
    shipment: Shipment, post_app: Application, center: object
) -> None:
    returned = _event(shipment, EventKind.RETURNED, minutes=10, detail="المستلم غير موجود")
    late_delivered = _event(shipment, EventKind.DELIVERED, minutes=5)  # earlier, but arrives last
    assert handle_postal_event(returned) == "applied"
    assert _status(post_app) == Status.READY_FOR_PICKUP
    assert handle_postal_event(late_delivered) == "ignored"

    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.RETURNED
    assert _status(post_app) == Status.READY_FOR_PICKUP
    assert not post_app.events.filter(action="deliver").exists()
    ignored = ShipmentEvent.objects.get(event_id=late_delivered.event_id)
    assert ignored.outcome == ShipmentEvent.Outcome.IGNORED
    assert AuditEvent.objects.filter(action="post.event_conflict").count() == 1


def test_returned_after_delivered_is_ignored_too(shipment: Shipment, post_app: Application) -> None:
    assert handle_postal_event(_event(shipment, EventKind.DELIVERED)) == "applied"
    assert handle_postal_event(_event(shipment, EventKind.RETURNED, minutes=30)) == "ignored"
    assert _status(post_app) == Status.DELIVERED
    assert Application.objects.get(pk=post_app.pk).pickup_center is None


def test_progress_events_out_of_order_keep_the_latest(shipment: Shipment) -> None:
    handle_postal_event(_event(shipment, EventKind.OUT_FOR_DELIVERY, minutes=20))
    assert handle_postal_event(_event(shipment, EventKind.IN_TRANSIT, minutes=0)) == "recorded"
    shipment.refresh_from_db()
    assert shipment.last_event == EventKind.OUT_FOR_DELIVERY
    assert shipment.events.count() == 2
    # The final event arrives before an older progress report: the report does not reopen it.
    handle_postal_event(_event(shipment, EventKind.DELIVERED, minutes=30))
    handle_postal_event(_event(shipment, EventKind.IN_TRANSIT, event_id="late", minutes=1))
    shipment.refresh_from_db()
    assert (shipment.state, shipment.last_event) == ("delivered", "delivered")
    assert [e.kind for e in shipment.events.all()] == [
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]


# ---------------------------------------------------------------- race (PostgreSQL)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between threads: PostgreSQL only"
)
def test_the_same_event_twice_at_once_applies_once(
    make_post_app: Callable[..., Application], civil_officer: User
) -> None:
    app = make_post_app()
    shipment = dispatch(app, civil_officer)
    delivered = _event(shipment, EventKind.DELIVERED)
    returned = _event(shipment, EventKind.RETURNED)
    results = in_threads(
        [lambda: handle_postal_event(delivered)] * 3 + [lambda: handle_postal_event(returned)]
    )
    assert all(isinstance(r, str) for r in results), results
    assert results.count("applied") == 1
    assert app.events.filter(action__in=["deliver", "return_to_sender"]).count() == 1
    assert ShipmentEvent.objects.count() == 2
    assert verify_chain() == []


def test_the_endpoint_is_named(shipment: Shipment) -> None:
    assert reverse("delivery:post_callback") == URL
