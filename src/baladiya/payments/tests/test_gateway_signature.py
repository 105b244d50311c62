"""Webhook signatures: a forged, tampered, unsigned or old notification never pays and never
writes anything; the endpoint answers the gateway in JSON with a clear reason."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from django.utils import translation

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.payments.gateways import signing
from baladiya.payments.gateways.base import BadSignature
from baladiya.payments.gateways.services import start_online_payment
from baladiya.payments.models import GatewayWebhook, PaymentIntent, Receipt
from baladiya.payments.tests.gateway_helpers import HEADER, SECRET, event_doc, signed_post

BODY = b'{"id":"evt_1"}'


# ---------------------------------------------------------------- the signing scheme


def test_a_genuine_signature_verifies() -> None:
    header = signing.sign(SECRET, BODY)
    assert signing.verify(header, BODY, [SECRET]) == int(header.split(",")[0][2:])


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "not signed"),
        ("", "not signed"),
        ("v1=abc", "malformed"),
        ("t=123", "malformed"),
        ("garbage", "malformed"),
        ("t=" + "9" * 2000, "malformed"),
    ],
)
def test_missing_or_malformed_headers_are_refused(header: str | None, why: str) -> None:
    with translation.override("en"):
        with pytest.raises(BadSignature) as refused:
            signing.verify(header, BODY, [SECRET])
        assert why in str(refused.value.message)


def test_wrong_secret_or_changed_body_is_refused() -> None:
    header = signing.sign("another-secret", BODY)
    with pytest.raises(BadSignature):
        signing.verify(header, BODY, [SECRET])
    good = signing.sign(SECRET, BODY)
    with pytest.raises(BadSignature):
        signing.verify(good, BODY + b" ", [SECRET])


def test_a_changed_timestamp_breaks_the_signature() -> None:
    header = signing.sign(SECRET, BODY)
    moment = int(header.split(",")[0][2:])
    forged = header.replace(f"t={moment}", f"t={moment + 1}")
    with pytest.raises(BadSignature):
        signing.verify(forged, BODY, [SECRET])


def test_an_old_capture_is_refused_even_with_a_genuine_signature() -> None:
    old = int(time.time()) - 901
    header = signing.sign(SECRET, BODY, old)
    with translation.override("en"):
        with pytest.raises(BadSignature) as refused:
            signing.verify(header, BODY, [SECRET], tolerance=900)
        assert "too old" in str(refused.value.message)
    future = signing.sign(SECRET, BODY, int(time.time()) + 901)
    with pytest.raises(BadSignature):
        signing.verify(future, BODY, [SECRET], tolerance=900)
    assert signing.verify(signing.sign(SECRET, BODY, old + 2), BODY, [SECRET], tolerance=900)


def test_secret_rotation_accepts_old_and_new() -> None:
    header = signing.sign("old-secret", BODY)
    assert signing.verify(header, BODY, ["new-secret", "old-secret"])


# ---------------------------------------------------------------- the endpoint


@pytest.fixture
def pending(app: Application, citizen_user: User) -> PaymentIntent:
    return start_online_payment(app, citizen_user, return_url="/payments/online/return/").intent


def _nothing_written(app: Application) -> None:
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED
    assert not Receipt.objects.exists()
    assert not GatewayWebhook.objects.exists()


def _doc(intent: PaymentIntent) -> dict[str, object]:
    return event_doc(intent.gateway_payment_id, str(intent.pk))


def test_forged_with_the_wrong_secret_never_pays(app: Application, pending: PaymentIntent) -> None:
    answer = signed_post(_doc(pending), secret="guessed-secret")
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_signature"
    _nothing_written(app)
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_unsigned_webhook_is_refused(app: Application, pending: PaymentIntent) -> None:
    answer = Client().post(
        "/payments/gateways/sandbox/webhook/",
        data=json.dumps(_doc(pending)),
        content_type="application/json",
    )
    assert answer.status_code == 400 and answer.json()["code"] == "bad_signature"
    _nothing_written(app)


def test_body_changed_after_signing_is_refused(app: Application, pending: PaymentIntent) -> None:
    body = json.dumps(_doc(pending))
    header = signing.sign(SECRET, body.encode())
    tampered = body.replace('"amount": 5000', '"amount": 1')
    answer = Client().post(
        "/payments/gateways/sandbox/webhook/",
        data=tampered,
        content_type="application/json",
        headers={HEADER: header},
    )
    assert answer.status_code == 400
    _nothing_written(app)


def test_old_timestamp_is_refused(app: Application, pending: PaymentIntent) -> None:
    answer = signed_post(_doc(pending), timestamp=int(time.time()) - 3600)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_signature"
    _nothing_written(app)


def test_genuine_event_for_an_unknown_payment_is_404_without_side_effects(
    app: Application, pending: PaymentIntent
) -> None:
    answer = signed_post(event_doc("sbx_nobody", "not-an-intent"))
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_payment"
    _nothing_written(app)


def test_unknown_gateway_and_wrong_method(app: Application, pending: PaymentIntent) -> None:
    assert signed_post(_doc(pending), gateway="paypal").status_code == 404
    assert Client().get("/payments/gateways/sandbox/webhook/").status_code == 405
    _nothing_written(app)


def test_genuine_webhook_needs_no_csrf_token_and_pays(
    app: Application, pending: PaymentIntent
) -> None:
    from baladiya.payments.gateways import sandbox

    sandbox.act(pending.gateway_payment_id, "pay")
    answer = signed_post(
        event_doc(pending.gateway_payment_id, str(pending.pk), event_id="evt_genuine"),
        client=Client(enforce_csrf_checks=True),
    )
    assert answer.status_code == 200 and answer.json() == {"status": "recorded"}
    app.refresh_from_db()
    assert app.status == Status.PAID


def test_refusal_message_follows_the_language(app: Application, pending: PaymentIntent) -> None:
    body = json.dumps(_doc(pending))
    english = Client().post(
        "/payments/gateways/sandbox/webhook/",
        data=body,
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert english.json()["message"] == "The notification is not signed."


@pytest.mark.parametrize(
    "spoil",
    [
        lambda doc: doc.update(created=10**30),  # a date no calendar has
        lambda doc: doc["data"].update(paid_at="2026-11-29T10:00:00"),  # no time zone
        lambda doc: doc["data"].update(amount=-5),
    ],
)
def test_signed_but_malformed_webhooks_are_a_clean_400(
    pending: PaymentIntent, spoil: object
) -> None:
    doc = _doc(pending)
    spoil(doc)  # type: ignore[operator]
    answer = signed_post(doc)
    assert answer.status_code == 400  # the gateway stops retrying; nothing is paid
    assert answer.json()["code"] == "unreadable_event"
    assert not Receipt.objects.exists()
    pending.refresh_from_db()
    assert pending.status != "succeeded"
