"""The portal's login pages over HTTP: number, code, profile; identical answers for known and
unknown numbers; limits shown as 429 with a clear message; Arabic by default."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import Citizen, OtpCode, User
from baladiya.accounts.tests.test_otp import sent_code, wrong
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = reverse("portal:login")
VERIFY = reverse("portal:verify")
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|"X-CSRFToken": "[^"]+"')


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.OTP_PHONE_LIMIT = 3
    settings.OTP_IP_LIMIT = 50
    settings.OTP_IP_FAILURE_LIMIT = 50


def web(ip: str = "10.0.0.7", language: str = "en") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=ip)


def _page(response: Any, *variable: str) -> str:
    """The page without what differs by design (CSRF token, the number typed)."""
    body = _TOKEN.sub("", response.content.decode())
    for text in variable:
        body = body.replace(text, "…")
    return body


def test_login_page_is_arabic_rtl_by_default() -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'dir="rtl"' in body and 'name="phone"' in body and 'type="tel"' in body


def test_sign_up_then_profile_then_login_again(citizen: Citizen) -> None:
    client = web()
    response = client.post(LOGIN, {"phone": "0933 444 555"})
    assert response.status_code == 302 and response["Location"] == VERIFY
    page = client.get(VERIFY)
    assert "+963933444555" in page.content.decode()
    response = client.post(VERIFY, {"code": sent_code("+963933444555")})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:profile"))
    user = User.objects.get(username="+963933444555")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.filter(action="citizen.login", actor="+963933444555").exists()
    # The profile: a new national number creates the citizen record with the verified mobile.
    response = client.post(
        reverse("portal:profile"),
        {"national_number": "٠٤٠١١١٢٢٢٣٣", "first_name": "سارة", "last_name": "النجار"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.citizen is not None and user.citizen.national_number == "04011122233"
    assert user.citizen.phone == "+963933444555"
    # Log out, and in again: straight to the applications.
    client.post(reverse("portal:logout"))
    assert "_auth_user_id" not in client.session
    client.post(LOGIN, {"phone": "+963933444555"})
    response = client.post(VERIFY, {"code": sent_code("+963933444555")})
    assert response["Location"] == reverse("portal:applications")


def test_login_keeps_the_page_asked_for() -> None:
    client = web()
    target = reverse("portal:applications")
    response = client.get(target)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    client.get(response["Location"])
    client.post(LOGIN, {"phone": "0933 444 555"})
    response = client.post(VERIFY, {"code": sent_code("+963933444555")})
    assert response["Location"] == f"{reverse('portal:profile')}?next=%2Fe%2Fapplications%2F"


def test_login_ignores_an_outside_next_url() -> None:
    client = web()
    client.get(LOGIN + "?next=https://evil.example/")
    client.post(LOGIN, {"phone": "0933 444 555"})
    response = client.post(VERIFY, {"code": sent_code("+963933444555")})
    assert "evil" not in response["Location"]


def test_known_and_unknown_numbers_get_identical_pages(citizen: Citizen) -> None:
    account = User(username=citizen.phone, citizen=citizen)
    account.set_unusable_password()
    account.save()
    unknown = "+963933777888"
    pages = []
    for phone in (citizen.phone, unknown):
        client = web()
        sent = client.post(LOGIN, {"phone": phone})
        shown = client.get(VERIFY)
        failed = client.post(VERIFY, {"code": wrong(sent_code(phone))})
        pages.append(
            (
                sent.status_code,
                sent["Location"],
                shown.status_code,
                _page(shown, phone),
                failed.status_code,
                _page(failed, phone),
            )
        )
    assert pages[0] == pages[1]
    assert pages[0][4] == 400
    assert "The code is wrong or has expired" in pages[0][5]


def test_bad_number_is_explained_and_nothing_sent() -> None:
    response = web().post(LOGIN, {"phone": "12345"})
    assert response.status_code == 200
    assert "Enter a Syrian mobile number" in response.content.decode()
    assert not OtpCode.objects.exists()


def test_too_many_codes_for_a_number_answers_429_with_the_wait() -> None:
    for i in range(3):
        assert web(f"10.0.1.{i}").post(LOGIN, {"phone": "0933 444 555"}).status_code == 302
    response = web("10.0.1.9").post(LOGIN, {"phone": "0933 444 555"})
    assert response.status_code == 429
    assert "Too many attempts. Try again in" in response.content.decode()


def test_brute_force_over_http_stops_after_max_attempts() -> None:
    client = web()
    client.post(LOGIN, {"phone": "0933 444 555"})
    code = sent_code("+963933444555")
    statuses = [client.post(VERIFY, {"code": wrong(code)}).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    assert client.post(VERIFY, {"code": code}).status_code == 400
    assert "_auth_user_id" not in client.session


def test_code_page_without_a_number_goes_back_to_step_one() -> None:
    assert web().get(VERIFY)["Location"] == LOGIN


def test_a_staff_session_is_refused_by_citizen_pages(clerk: User) -> None:
    client = web()
    client.force_login(clerk)
    response = client.get(reverse("portal:applications"))
    assert response.status_code == 403
    assert "Staff accounts cannot use the citizen portal" in response.content.decode()
