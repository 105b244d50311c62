"""Status lookup without login: reference + mobile; one answer for a wrong reference and a
wrong mobile; no notes or personal data; failed lookups limited per address and reference
(and per mobile: test_track_phone_limit.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.payments.services import record_gateway_payment

pytestmark = pytest.mark.django_db
URL = reverse("portal:track")
_NOISE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.TRACK_RATE_LIMIT = 4
    settings.TRACK_RATE_WINDOW_SECONDS = 900


def web(ip: str = "10.3.3.3") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)


def _look(client: Client, reference: str, phone: str) -> Any:
    return client.post(URL, {"reference": reference, "phone": phone})


def test_status_by_reference_and_mobile(online_app: Application, officer: User) -> None:
    record_gateway_payment(online_app, online_app.fee_amount, "sandbox:t")
    apps.start_review(online_app, officer)
    apps.return_for_correction(online_app, officer, "ملاحظة للمواطن")
    response = _look(web(), online_app.reference.lower(), "0944 123 456")
    assert response.status_code == 200
    body = response.content.decode()
    assert online_app.reference in body and "Returned for correction" in body
    assert "Individual civil-registry extract" in body
    # A lookup shows the status only: no note, no name, no national number.
    applicant = online_app.applicant
    for private in ("ملاحظة للمواطن", applicant.first_name, applicant.national_number):
        assert private not in body


def test_wrong_reference_and_wrong_mobile_get_the_same_answer(online_app: Application) -> None:
    missing = online_app.reference[:-1] + ("9" if online_app.reference[-1] != "9" else "8")
    wrong_phone = _look(web("10.3.3.4"), online_app.reference, "0944 999 999")
    wrong_ref = _look(web("10.3.3.5"), missing, "0944 123 456")
    not_a_phone = _look(web("10.3.3.6"), online_app.reference, "hello")
    for response in (wrong_phone, wrong_ref, not_a_phone):
        assert response.status_code == 404
        assert "No application matches this reference and mobile number" in (
            response.content.decode()
        )

    def page(response: Any, *typed: str) -> str:
        body = _NOISE.sub("", response.content.decode())
        for text in typed:
            body = body.replace(text, "…")
        return body

    assert page(wrong_phone, online_app.reference, "0944 999 999") == page(
        wrong_ref, missing, "0944 123 456"
    )


def test_failed_lookups_are_limited_per_address(online_app: Application) -> None:
    client = web()
    for i in range(4):
        assert _look(client, f"C00-26-00009{i}", f"094400001{i}").status_code == 404
    response = _look(client, online_app.reference, "0944 123 456")  # even the right one
    assert response.status_code == 429
    assert "Too many attempts. Try again in" in response.content.decode()
    assert _look(web("10.9.9.9"), online_app.reference, "0944 123 456").status_code == 200


def test_failed_lookups_are_limited_per_reference(online_app: Application) -> None:
    """Guessing the mobile of one reference from many addresses is stopped too."""
    for i in range(4):
        assert _look(web(f"10.4.4.{i}"), online_app.reference, f"094400000{i}").status_code == 404
    assert _look(web("10.4.4.99"), online_app.reference, "0944 123 456").status_code == 429


def test_successful_lookups_do_not_count(online_app: Application) -> None:
    client = web()
    for _ in range(6):
        assert _look(client, online_app.reference, "+963944123456").status_code == 200


def test_empty_form_is_explained() -> None:
    response = web().post(URL, {"reference": "", "phone": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
