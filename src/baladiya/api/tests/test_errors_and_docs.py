"""Nothing under /api/ answers HTML or a 5xx: unknown paths, wrong methods, bad JSON. The
OpenAPI description and the browsable docs work offline (no external asset)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.test import Client

from baladiya.accounts.models import User
from baladiya.api.tests.conftest import ApiClient
from baladiya.catalog.models import Service

Api = Callable[..., ApiClient]


def test_unknown_paths_and_methods_answer_json(api: Api, db: None) -> None:
    for path in ("/api/v1/nothing-here", "/api/v2/services", "/api/"):
        answer = api().get(path)
        assert answer.status == 404 and answer.body["code"] == "not_found"
    wrong = api().delete("/api/v1/services")
    assert wrong.status == 405 and wrong.body["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_malformed_json_is_400(clerk: User) -> None:
    from baladiya.api.tests.conftest import token_for

    response = Client().post(
        "/api/v1/applications",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(clerk)}", "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_services_contract(api: Api, service: Service) -> None:
    from baladiya.catalog.models import RequiredAttachment

    RequiredAttachment.objects.create(
        service=service, code="id-card", label_ar="الهوية", label_en="ID card"
    )
    answer = api().get("/api/v1/services")
    assert answer.status == 200
    (svc,) = answer.body
    assert svc["code"] == "civil-individual-extract"
    assert svc["name"] == {"ar": "بيان قيد فردي", "en": "Individual civil-registry extract"}
    assert svc["fee"] == {"amount": 5000, "currency": "SYP"}
    assert svc["delivery_modes"] == ["pickup", "post"]
    assert svc["fields"] == [
        {
            "name": "purpose",
            "type": "text",
            "required": True,
            "choices": [],
            "label": {"ar": "الجهة المقدم إليها", "en": "Purpose"},
        },
        {
            "name": "id-card",
            "type": "file",
            "required": True,
            "choices": [],
            "label": {"ar": "الهوية", "en": "ID card"},
        },
    ]


def test_inactive_services_are_not_listed(api: Api, service: Service) -> None:
    Service.objects.update(active=False)
    assert api().get("/api/v1/services").body == []


def test_openapi_describes_every_operation_and_the_idempotency_header(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/auth/otp/request",
        "/api/v1/auth/otp/verify",
        "/api/v1/services",
        "/api/v1/applications",
        "/api/v1/applications/{reference}",
        "/api/v1/applications/{reference}/payments",
        "/api/v1/documents/{number}/verify",
    ):
        assert path in paths, path
    for path, methods in paths.items():
        if "post" in methods:
            names = [p["name"] for p in methods["post"].get("parameters", [])]
            assert "Idempotency-Key" in names, path
    assert "BearerToken" in schema["components"]["securitySchemes"]


def test_docs_page_loads_nothing_from_outside(db: None) -> None:
    client = Client()
    response = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/applications/{reference}/payments" in html  # the no-JS reference
    external = re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html)
    assert external == []
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_openapi_is_valid_json_in_arabic_too(db: None) -> None:
    response = Client().get("/api/v1/openapi.json", headers={"Accept-Language": "ar"})
    assert json.loads(response.content)["info"]["title"] == "Baladiya API"


def test_openapi_is_built_once_per_language_not_on_every_request(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building it costs ~50 ms of CPU: a public URL called in a loop must not cost that."""
    from django.utils import translation
    from ninja import NinjaAPI

    from baladiya.api.main import api

    built: list[str | None] = []
    build = NinjaAPI.get_openapi_schema

    def counted(self: NinjaAPI, *args: object, **kwargs: object) -> object:
        built.append(translation.get_language())
        return build(self, *args, **kwargs)

    monkeypatch.setattr(NinjaAPI, "get_openapi_schema", counted)
    api.__dict__.pop("_schemas", None)  # an empty cache, as in a new process
    answers = [
        Client().get("/api/v1/openapi.json", headers={"Accept-Language": lang})
        for lang in ("en", "en", "ar", "ar", "en")
    ]
    assert [a.status_code for a in answers] == [200] * 5
    assert built == ["en", "ar"]
    assert answers[0].json() == answers[1].json() == answers[4].json()
    api.__dict__.pop("_schemas", None)


def test_nul_characters_are_refused_not_stored(api: Api, clerk: User) -> None:
    """Found by the schema tests on PostgreSQL, which cannot store a NUL in text."""
    answer = api().post("/api/v1/auth/token", {"username": "a\x00b", "password": "x"})
    assert answer.status == 422 and answer.body["code"] == "validation_error"
    assert api(clerk).get("/api/v1/applications/C03%00").status == 404
    keyed = api(clerk).post("/api/v1/applications/%00/payments", {}, key="k-1")
    assert keyed.status == 404


def test_centers_contract(api: Api, center: object, other_center: object) -> None:
    from baladiya.centers.models import Center

    Center.objects.filter(code="C05").update(accepts_pickup=False)
    answer = api().get("/api/v1/centers")
    assert answer.status == 200
    assert [(c["code"], c["accepts_pickup"]) for c in answer.body] == [
        ("C03", True),
        ("C05", False),
    ]
    assert answer.body[0]["name"] == {"ar": "مركز الإنشاءات", "en": "al-Inshaat center"}
