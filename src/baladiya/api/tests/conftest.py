"""Fixtures for the API tests: the electronic center, citizen accounts, tokens, a JSON client."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.api import services


def make_citizen_account(phone: str, citizen: Citizen | None) -> User:
    user = User(username=phone)
    user.set_unusable_password()
    user.citizen = citizen
    user.save()
    return user


@pytest.fixture
def citizen_user(citizen: Citizen) -> User:
    return make_citizen_account(citizen.phone, citizen)


@pytest.fixture
def other_citizen_user(db: None) -> User:
    other = Citizen.objects.create(
        national_number="04099999999",
        first_name="ليلى",
        father_name="سمير",
        last_name="العلي",
        phone="+963955000111",
    )
    return make_citizen_account(other.phone, other)


def token_for(user: User) -> str:
    if user.role_codes():
        from baladiya.api.models import ApiToken

        return services._issue(
            user, ApiToken.Kind.STAFF, services.staff_token_lifetime(), "127.0.0.1"
        ).token
    return services.issue_citizen_token(user, "127.0.0.1").token


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any


class ApiClient:
    """JSON in, JSON out; `as_user` adds the bearer token of a user."""

    def __init__(self) -> None:
        self.client = Client()
        self.token: str | None = None
        self.language = "en"

    def as_user(self, user: User | None) -> ApiClient:
        self.token = token_for(user) if user is not None else None
        return self

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": self.language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def _answer(self, response: Any) -> Answer:
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        return Answer(response.status_code, json.loads(response.content), response)

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Answer:
        return self._answer(self.client.get(path, params, headers=self._headers(headers)))

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, key: str = ""
    ) -> Answer:
        extra = dict(headers or {})
        if key:
            extra["Idempotency-Key"] = key
        data = json.dumps(body if body is not None else {})
        return self._answer(
            self.client.post(
                path, data, content_type="application/json", headers=self._headers(extra)
            )
        )

    def delete(self, path: str) -> Answer:
        return self._answer(self.client.delete(path, headers=self._headers(None)))


@pytest.fixture
def api() -> Callable[[User | None], ApiClient]:
    def make(user: User | None = None) -> ApiClient:
        return ApiClient().as_user(user)

    return make


def pickup_body(service_code: str = "civil-individual-extract", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service": service_code,
        "applicant": {
            "national_number": "04012345678",
            "name": "أحمد محمد الحمصي",
            "phone": "+963944123456",
        },
        "fields": {"purpose": "مصرف"},
        "delivery": {"mode": "pickup", "center": "C03"},
    }
    body.update(extra)
    return body
