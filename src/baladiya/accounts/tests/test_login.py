"""Staff login: argon2 passwords, rate limit per username and per address, audit, logout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts import roles
from baladiya.accounts.models import LoginAttempt, User
from baladiya.conftest import PASSWORD
from baladiya.core.audit import verify_chain
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


@pytest.fixture
def web() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.7")


def _login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_login_page_has_autofocus_and_is_arabic_by_default() -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and "autofocus" in body
    assert 'dir="rtl"' in body


def test_passwords_are_stored_with_argon2_and_log_in(
    web: Client, make_user: Callable[..., User], settings: Any
) -> None:
    from baladiya import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS  # the test suite uses MD5
    user = make_user("argon", roles.CLERK)
    assert user.password.startswith("argon2")
    assert _login(web, "argon", PASSWORD).status_code == 302


def test_login_success_redirects_to_the_role_screen_and_is_audited(
    web: Client, clerk: User
) -> None:
    response = _login(web, "clerk03", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert web.get("/")["Location"] == reverse("applications:counter")
    event = AuditEvent.objects.get(action="login.succeeded")
    assert event.actor == "clerk03" and event.center == "C03"
    assert LoginAttempt.objects.filter(username="clerk03", succeeded=True).count() == 1
    assert verify_chain() == []


HOME_OF = {
    roles.CLERK: "applications:counter",
    roles.CASHIER: "payments:cashier",
    roles.OFFICER: "applications:back_office",
    roles.SUPERVISOR: "applications:supervisor",
    roles.AUDITOR: "payments:reconciliation",
    roles.ADMIN: "applications:supervisor",
    roles.FINANCE: "payments:settlements",
}


def test_every_role_has_a_home_screen() -> None:
    assert set(HOME_OF) == set(roles.ALL_ROLES)


@pytest.mark.parametrize("role", sorted(HOME_OF))
def test_after_login_each_role_lands_on_its_own_screen(
    web: Client, make_user: Callable[..., User], center: Any, role: str
) -> None:
    bound = {"center": center} if role in roles.CENTER_BOUND_ROLES else {}
    make_user(f"{role}-1", role, **bound)
    assert _login(web, f"{role}-1", PASSWORD)["Location"] == "/"
    home = reverse(HOME_OF[role])
    assert web.get("/")["Location"] == home
    assert web.get(home).status_code == 200  # a screen the role may open, not a refusal


def test_login_follows_a_safe_next_only(web: Client, clerk: User) -> None:
    ok = web.post(
        LOGIN, {"username": "clerk03", "password": PASSWORD, "next": "/applications/counter/"}
    )
    assert ok["Location"] == "/applications/counter/"
    web.post("/accounts/logout/")
    evil = web.post(
        LOGIN, {"username": "clerk03", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert evil["Location"] == "/"


def test_wrong_password_is_refused_with_a_message_and_audited(web: Client, clerk: User) -> None:
    response = _login(web, "clerk03", "wrong")
    assert response.status_code == 200
    assert "Wrong username or password" in response.content.decode()
    assert "_auth_user_id" not in web.session
    event = AuditEvent.objects.get(action="login.failed")
    assert event.data["username"] == "clerk03" and event.data["ip"] == "10.0.0.7"
    assert "wrong" not in str(event.data)  # never the password


def test_inactive_user_is_refused(web: Client, make_user: Callable[..., User]) -> None:
    make_user("gone", roles.CLERK, is_active=False)
    response = _login(web, "gone", PASSWORD)
    assert "Wrong username or password" in response.content.decode()
    assert "_auth_user_id" not in web.session


def test_rate_limit_blocks_after_n_failures_even_with_the_right_password(
    web: Client, clerk: User, settings: Any
) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(3):
        assert "Wrong username" in _login(web, "clerk03", "nope").content.decode()
    response = _login(web, "clerk03", PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed login attempts" in body and "15 minutes" in body
    assert "_auth_user_id" not in web.session
    assert _login(web, "clerk03", "nope").status_code == 429
    # The block is audited once, when it starts; blocked attempts write nothing.
    assert AuditEvent.objects.filter(action="login.blocked").count() == 1
    # While blocked, nothing is authenticated and no further attempt is counted.
    assert LoginAttempt.objects.filter(succeeded=False).count() == 3


def test_block_is_per_username_from_any_address(clerk: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 2
    for ip in ("10.0.0.1", "10.0.0.2"):
        _login(Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en"), "clerk03", "nope")
    response = _login(
        Client(REMOTE_ADDR="10.0.0.3", HTTP_ACCEPT_LANGUAGE="en"), "CLERK03 ", PASSWORD
    )
    assert response.status_code == 429


def test_block_is_per_address_across_usernames(
    web: Client, clerk: User, cashier: User, settings: Any
) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    for name in ("a", "b", "c"):
        _login(web, name, "guess")
    assert _login(web, "cashier03", PASSWORD).status_code == 429
    other = Client(REMOTE_ADDR="10.9.9.9", HTTP_ACCEPT_LANGUAGE="en")
    assert _login(other, "cashier03", PASSWORD).status_code == 302


def test_block_expires_after_the_window(web: Client, clerk: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 2
    _login(web, "clerk03", "x")
    _login(web, "clerk03", "y")
    assert _login(web, "clerk03", PASSWORD).status_code == 429
    LoginAttempt.objects.update(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert _login(web, "clerk03", PASSWORD).status_code == 302


def test_success_resets_the_username_count(web: Client, clerk: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 3
    _login(web, "clerk03", "x")
    _login(web, "clerk03", "y")
    assert _login(web, "clerk03", PASSWORD).status_code == 302
    web.post("/accounts/logout/")
    other = Client(REMOTE_ADDR="10.1.1.1", HTTP_ACCEPT_LANGUAGE="en")
    _login(other, "clerk03", "z")
    _login(other, "clerk03", "w")
    assert _login(other, "clerk03", PASSWORD).status_code == 302


def test_blocked_message_is_in_arabic_by_default(clerk: User, settings: Any) -> None:
    settings.LOGIN_RATE_LIMIT = 1
    client = Client(REMOTE_ADDR="10.0.0.8")
    _login(client, "clerk03", "x")
    response = _login(client, "clerk03", PASSWORD)
    assert response.status_code == 429
    assert 'lang="ar"' in response.content.decode()


def test_logout_is_post_only_and_audited(web: Client, clerk: User) -> None:
    web.force_login(clerk)
    assert web.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in web.session
    response = web.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in web.session
    assert AuditEvent.objects.filter(action="logout", actor="clerk03").exists()


def test_logged_in_user_visiting_login_goes_home(web: Client, clerk: User) -> None:
    web.force_login(clerk)
    assert web.get(LOGIN)["Location"] == "/"


def test_admin_login_form_redirects_to_the_rate_limited_login(web: Client) -> None:
    response = web.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    # Posting a password to the admin's form is not possible either.
    assert web.post("/admin/login/", {"username": "x", "password": "y"}).status_code in (
        302,
        405,
    )
    assert not LoginAttempt.objects.filter(username="x", succeeded=True).exists()


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(
    web: Client, clerk: User, settings: Any
) -> None:
    settings.LOGIN_RATE_LIMIT = 2
    for i in range(2):
        _login(web, "clerk03", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    # A forged header does not give a fresh address: the real one is blocked.
    response = _login(web, "nobody", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429
    # Behind one trusted proxy, the proxy's entry is the client's address.
    settings.TRUSTED_PROXY_COUNT = 1
    response = _login(web, "someone", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code != 429


def test_a_forwarded_for_header_without_a_trusted_proxy_is_reported_once(
    settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy with BALADIYA_TRUSTED_PROXY_COUNT forgotten, every citizen would share
    the proxy's address (and its rate limits): the log says so, once per process."""
    from django.test import RequestFactory

    from baladiya.accounts import services

    monkeypatch.setattr(services, "_forwarded_warned", False)
    settings.TRUSTED_PROXY_COUNT = 0
    factory = RequestFactory()
    plain = factory.get("/", REMOTE_ADDR="10.0.0.9")
    forwarded = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    with caplog.at_level("WARNING", logger="baladiya.accounts.services"):
        assert services.client_ip(plain) == "10.0.0.9"
        assert not caplog.records
        for _ in range(3):
            assert services.client_ip(forwarded) == "10.0.0.1"  # still ignored
    warnings = [r for r in caplog.records if "TRUSTED_PROXY_COUNT" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    settings.TRUSTED_PROXY_COUNT = 1
    assert services.client_ip(forwarded) == "203.0.113.5"
