"""No stack trace reaches a user: domain errors become clear messages, crashes a calm page."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from baladiya.core.tests.urls_errors import SECRET_DETAIL

pytestmark = [pytest.mark.django_db, pytest.mark.urls("baladiya.core.tests.urls_errors")]


@pytest.fixture
def client_en() -> Client:
    """A client that gets the error page, as a browser would, instead of the exception."""
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


def test_domain_error_becomes_an_error_page_with_its_message(client_en: Client) -> None:
    response = client_en.get("/test-errors/domain/")
    assert response.status_code == 409
    assert "This receipt was already refunded." in response.content.decode()
    assert response.templates[0].name == "error.html"


def test_not_allowed_is_a_403_page(client_en: Client) -> None:
    response = client_en.get("/test-errors/not-allowed/")
    assert response.status_code == 403
    assert "This record belongs to another center." in response.content.decode()


def test_plain_domain_error_is_a_400(client_en: Client) -> None:
    response = client_en.get("/test-errors/plain/")
    assert response.status_code == 400
    assert "Bad amount" in response.content.decode()


def test_domain_error_after_a_form_post_goes_back_with_the_message(client_en: Client) -> None:
    response = client_en.post(
        "/test-errors/domain/", {"x": "1"}, HTTP_REFERER="http://testserver/catalog/"
    )
    assert response.status_code == 302
    assert response["Location"] == "http://testserver/catalog/"
    follow = client_en.get("/test-errors/plain/")  # any page shows the pending message
    assert "This receipt was already refunded." in follow.content.decode()


def test_post_with_a_foreign_referer_is_not_redirected_there(client_en: Client) -> None:
    response = client_en.post("/test-errors/domain/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 409
    assert "This receipt was already refunded." in response.content.decode()


def test_api_domain_error_is_json(client_en: Client) -> None:
    response = client_en.post("/api/test-errors/domain/")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "already_refunded",
        "message": "This receipt was already refunded.",
    }


def test_api_domain_error_message_in_arabic_by_default() -> None:
    response = Client(raise_request_exception=False).get("/api/test-errors/not-allowed/")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("route", "status", "code"),
    [
        ("missing/", 404, "not_found"),
        ("forbidden/", 403, "forbidden"),
        ("crash/", 500, "server_error"),
    ],
)
def test_api_other_errors_are_json_too(
    client_en: Client, route: str, status: int, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client_en.get(f"/api/test-errors/{route}")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert SECRET_DETAIL not in response.content.decode()


def test_api_crash_is_logged_for_the_operators(
    client_en: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="django.request"):
        client_en.get("/api/test-errors/crash/")
    assert any(SECRET_DETAIL in (r.exc_text or str(r.exc_info)) for r in caplog.records)


def test_unknown_page_is_the_friendly_404(client_en: Client) -> None:
    response = client_en.get("/no-such-page/here/")
    assert response.status_code == 404
    assert "error.html" in [t.name for t in response.templates]
    assert "does not exist" in response.content.decode()


def test_http404_from_a_view_is_the_friendly_404(client_en: Client) -> None:
    response = client_en.get("/test-errors/missing/")
    assert response.status_code == 404
    assert "error.html" in [t.name for t in response.templates]


def test_unexpected_exception_is_a_500_page_without_traceback(
    client_en: Client, settings: Any
) -> None:
    settings.DEBUG = False
    response = client_en.get("/test-errors/crash/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "Nothing was changed" in body
    assert SECRET_DETAIL not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body


def test_error_page_is_arabic_by_default() -> None:
    response = Client(raise_request_exception=False).get("/no-such-page/here/")
    assert response.status_code == 404
    assert 'dir="rtl"' in response.content.decode()
