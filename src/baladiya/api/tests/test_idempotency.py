"""Idempotency-Key on every POST: replays, reuse with another body, errors not kept,
concurrent duplicates, sealed storage."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.api import idempotency
from baladiya.api.models import ApiToken, IdempotencyRecord
from baladiya.api.tests.conftest import ApiClient, pickup_body
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.conftest import PASSWORD
from baladiya.payments import services as payments

Api = Callable[..., ApiClient]
KEY = "2f1d5c1e-6a55-4d4f-9c1b-0d0f6f4b6a01"


@pytest.fixture
def ready(citizen: Citizen, service: Service) -> None:
    """A citizen and a service to apply for."""


def test_same_key_same_body_replays_the_first_answer(api: Api, clerk: User, ready: None) -> None:
    client = api(clerk)
    first = client.post("/api/v1/applications", pickup_body(), key=KEY)
    # Same content, keys in another order: still the same request.
    reordered = dict(reversed(list(pickup_body().items())))
    second = client.post("/api/v1/applications", reordered, key=KEY)
    assert first.status == second.status == 201
    assert second.body == first.body
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Application.objects.count() == 1


def test_replay_survives_a_new_token_of_the_same_user(api: Api, clerk: User, ready: None) -> None:
    first = api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)
    second = api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)  # new token
    assert second.body["reference"] == first.body["reference"]
    assert Application.objects.count() == 1


def test_same_key_different_body_is_refused(api: Api, clerk: User, ready: None) -> None:
    client = api(clerk)
    assert client.post("/api/v1/applications", pickup_body(), key=KEY).status == 201
    other = pickup_body(note="urgent")
    answer = client.post("/api/v1/applications", other, key=KEY)
    assert answer.status == 422 and answer.body["code"] == "idempotency_key_reused"
    elsewhere = client.post("/api/v1/auth/token", {"username": "x", "password": "y"}, key=KEY)
    assert elsewhere.status == 422 and elsewhere.body["code"] == "idempotency_key_reused"
    assert Application.objects.count() == 1


def test_keys_are_per_caller(api: Api, clerk: User, make_user: Any, ready: None) -> None:
    from baladiya.accounts import roles

    colleague = make_user("clerk03b", roles.CLERK, center=clerk.center)
    mine = api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)
    theirs = api(colleague).post("/api/v1/applications", pickup_body(), key=KEY)
    assert mine.status == theirs.status == 201
    assert mine.body["reference"] != theirs.body["reference"]


def test_an_error_is_not_kept_so_the_same_key_can_retry(
    api: Api, clerk: User, cashier: User, ready: None
) -> None:
    reference = api(clerk).post("/api/v1/applications", pickup_body()).body["reference"]
    client = api(cashier)
    path = f"/api/v1/applications/{reference}/payments"
    failed = client.post(path, {}, key=KEY)
    assert failed.status == 400 and failed.body["code"] == "no_open_session"
    assert not IdempotencyRecord.objects.exists()
    payments.open_session(cashier, 0)
    paid = client.post(path, {}, key=KEY)
    assert paid.status == 201
    again = client.post(path, {}, key=KEY)
    assert again.status == 201 and again.body == paid.body  # not 409 already_paid
    assert again.headers["Idempotent-Replayed"] == "true"


def test_token_replay_returns_the_same_token_and_stores_it_sealed(api: Api, clerk: User) -> None:
    body = {"username": "clerk03", "password": PASSWORD}
    first = api().post("/api/v1/auth/token", body, key=KEY)
    second = api().post("/api/v1/auth/token", body, key=KEY)
    assert first.status == second.status == 200
    assert second.body["token"] == first.body["token"]
    assert ApiToken.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert first.body["token"].encode() not in bytes(record.response)


def test_invalid_keys_are_refused(api: Api, clerk: User, ready: None) -> None:
    for key in ("x" * 201, "clé-ü"):
        answer = api(clerk).post("/api/v1/applications", pickup_body(), key=key)
        assert answer.status == 422 and answer.body["code"] == "idempotency_key_invalid"
    assert not Application.objects.exists()


def _running(caller: str, body: dict[str, Any], *, age: dt.timedelta) -> IdempotencyRecord:
    import hashlib
    import json

    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    record = IdempotencyRecord.objects.create(
        caller=caller,
        key=KEY,
        method="POST",
        path="/api/v1/applications",
        body_hash=hashlib.sha256(canonical.encode()).hexdigest(),
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def test_a_twin_still_running_makes_the_copy_wait_then_409(
    api: Api, clerk: User, ready: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    _running(f"user:{clerk.pk}", pickup_body(), age=dt.timedelta(seconds=1))
    answer = api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)
    assert answer.status == 409 and answer.body["code"] == "idempotency_in_progress"
    assert answer.headers["Retry-After"] == "1"
    assert not Application.objects.exists()


def test_a_twin_finishing_while_the_copy_waits_is_replayed(
    api: Api, clerk: User, ready: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _running(f"user:{clerk.pk}", pickup_body(), age=dt.timedelta(seconds=1))
    sealed = idempotency.seal(record.caller, KEY, "application/json", b'{"reference": "X"}')

    def twin_finishes(seconds: float) -> None:
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status=201, response=sealed, completed_at=timezone.now()
        )

    monkeypatch.setattr(idempotency.time, "sleep", twin_finishes)
    answer = api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)
    assert answer.status == 201 and answer.body == {"reference": "X"}
    assert not Application.objects.exists()


def test_a_stale_claim_is_taken_over(api: Api, clerk: User, ready: None) -> None:
    _running(f"user:{clerk.pk}", pickup_body(), age=dt.timedelta(minutes=5))
    answer = api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)
    assert answer.status == 201
    assert IdempotencyRecord.objects.get().status == 201


def test_purge_forgets_old_answers(api: Api, clerk: User, ready: None) -> None:
    api(clerk).post("/api/v1/applications", pickup_body(), key=KEY)
    assert idempotency.purge_records() == 0
    later = timezone.now() + idempotency.RETENTION + dt.timedelta(minutes=1)
    assert idempotency.purge_records(later) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="threads need a server database (PostgreSQL)"
)
def test_concurrent_duplicates_make_one_application(
    clerk: User, citizen: Citizen, service: Service
) -> None:
    from baladiya.api.tests.conftest import token_for

    token = token_for(clerk)
    answers: list[Any] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        from django.db import connections

        try:
            client = ApiClient()
            client.token = token
            barrier.wait()
            answers.append(client.post("/api/v1/applications", pickup_body(), key=KEY))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Application.objects.count() == 1
    assert [a.status for a in answers] == [201] * 4
    assert len({a.body["reference"] for a in answers}) == 1
