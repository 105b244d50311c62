"""A lost lock race (deadlock, serialization failure) is retried; never a 5xx for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError

from baladiya.accounts.models import Citizen, User
from baladiya.api import retry
from baladiya.api.routers import applications as router
from baladiya.api.tests.conftest import ApiClient, pickup_body
from baladiya.applications.models import Application
from baladiya.catalog.models import Service

Api = Callable[..., ApiClient]


class DeadlockDetected(Exception):
    """Named like psycopg's, which is what `is_transient` looks at."""


def _deadlock() -> OperationalError:
    exc = OperationalError("deadlock detected")
    exc.__cause__ = DeadlockDetected()
    return exc


def test_transient_errors_are_recognised() -> None:
    assert retry.is_transient(_deadlock())
    assert retry.is_transient(OperationalError("database is locked"))
    assert not retry.is_transient(OperationalError("no such table: x"))
    assert not retry.is_transient(ValueError("deadlock"))


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_submission_is_retried(
    api: Api, clerk: User, citizen: Citizen, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = router.applications.submit_application
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise _deadlock()
        return real(*args, **kwargs)

    monkeypatch.setattr(router.applications, "submit_application", flaky)
    answer = api(clerk).post("/api/v1/applications", pickup_body())
    assert answer.status == 201 and len(calls) == 2
    assert Application.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_lasting_deadlock_is_409_busy(
    api: Api, clerk: User, citizen: Citizen, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always(*args: Any, **kwargs: Any) -> Any:
        raise _deadlock()

    monkeypatch.setattr(router.applications, "submit_application", always)
    answer = api(clerk).post("/api/v1/applications", pickup_body())
    assert answer.status == 409 and answer.body["code"] == "busy"
    assert answer.headers["Retry-After"] == "1"
