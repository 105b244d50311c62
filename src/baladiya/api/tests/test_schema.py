"""The API against its own OpenAPI description (schemathesis): on generated input — valid and
deliberately invalid — no 5xx, every status documented, every body of the documented shape.

Runs through Django's WSGI handler inside the test database (no server), with a bounded
number of examples per operation so the whole file stays well under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from baladiya.accounts.models import Citizen, User
from baladiya.api.tests.conftest import token_for
from baladiya.catalog.models import Service
from baladiya.centers.models import Center

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 30


def _load() -> tuple[Any, dict[str, Any]]:
    """The schema as served, loaded once at collection (building it needs no database)."""
    from baladiya.api.main import api

    raw = json.loads(json.dumps(api.get_openapi_schema()))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = WSGIHandler()
    # Signing out would revoke the token the other operations are called with (tested apart).
    return loaded.exclude(method="DELETE"), raw


SCHEMA, RAW = _load()


def _cases() -> list[Any]:
    cases = []
    for result in SCHEMA.get_all_operations():
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"
        cases.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{label} valid"))
        definition = RAW["paths"][op.path][op.method.lower()]
        if definition.get("parameters") or definition.get("requestBody"):
            # Nothing to break in an operation without input.
            cases.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{label} invalid"))
    return sorted(cases, key=lambda p: str(p.id))


@pytest.fixture
def data(
    clerk: User,
    cashier: User,
    citizen: Citizen,
    service: Service,
    other_center: Center,
    electronic_center: Center,
) -> None:
    """A little of everything, so generated calls meet real rows too."""


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Django's own test client stops a request from closing the database connection (which
    holds the test's transaction); the bare WSGI handler used here needs the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(params=["clerk", "citizen"])
def bearer(request: pytest.FixtureRequest, clerk: User, citizen_user: User) -> dict[str, str]:
    user = clerk if request.param == "clerk" else citizen_user
    return {
        "Authorization": f"Bearer {token_for(user)}",
        "Accept-Language": "en",
        "Accept-Encoding": "identity",  # the test client does not gunzip
    }


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_api_conforms_to_its_schema(
    label: str,
    mode: GenerationMode,
    data: None,
    bearer: dict[str, str],
    keep_test_connection: None,
) -> None:
    method, path = label.split(" ", 1)
    operation = SCHEMA[path][method]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        case.call_and_validate(headers=bearer, checks=CHECKS)

    check()
