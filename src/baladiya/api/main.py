"""The public API at /api/v1/: routers, JSON errors, Idempotency-Key, OpenAPI and offline docs."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.functional import cached_property
from ninja import NinjaAPI
from ninja.openapi.docs import DocsBase

from baladiya.api import errors, idempotency, retry
from baladiya.api.routers import applications, auth, catalog, documents

DESCRIPTION = """\
The Homs city council's citizen services: the catalog, applications, payments and document
verification.

* **Sign in.** Staff: `POST /api/v1/auth/token` with username and password. Citizens:
  `POST /api/v1/auth/otp/request` with their mobile number, then `POST /api/v1/auth/otp/verify`
  with the code received by SMS. Both return `{"token": ...}`: send it as
  `Authorization: Bearer <token>`.
* **Idempotency.** Every POST accepts an `Idempotency-Key` header. Sending the same request
  again with the same key returns the first answer (header `Idempotent-Replayed: true`)
  instead of doing it twice; the same key with a different body is refused (422
  `idempotency_key_reused`). Answers are kept 24 hours; errors are not kept.
* **Errors** are JSON `{"code", "message", "fields"?}` in the language of `Accept-Language`
  (Arabic by default, English), with the matching status: 400/422 invalid input, 401 not
  signed in, 403 not allowed, 404 not found (or not yours), 409 conflict or not possible in
  the current state, 429 too many attempts.
* **Money** is an integer number of piastres (1/100 SYP) with its currency.
* **Documents** carry a signed QR code; the public keys are at
  `/.well-known/baladiya/keys.json` (format: docs/qr-payload.md).
"""


class OfflineDocs(DocsBase):
    """Browsable docs with no external asset: a server-rendered reference of every operation
    (works without JavaScript), replaced by Swagger UI from ninja's bundled static files when
    JavaScript runs."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
        }
        return render(
            request,
            "api/docs.html",
            {
                "api": api,
                "operations": _operations(schema),
                "swagger_settings": json.dumps(settings),
                "openapi_url": settings["url"],
                "keys_url": reverse("public_keys"),
            },
        )


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            statuses = sorted(op.get("responses", {}))
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "auth": bool(op.get("security")),
                    "tags": ", ".join(op.get("tags", [])),
                    "parameters": [f"{p['name']} ({p['in']})" for p in op.get("parameters", [])],
                    "body": _body_ref(op),
                    "statuses": ", ".join(str(s) for s in statuses),
                }
            )
    return rows


def _body_ref(op: dict[str, Any]) -> str:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    return str(ref).rsplit("/", 1)[-1]


class BaladiyaAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Any) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Built once per process and language: building it took ~50 ms of CPU, on every
        request for /openapi.json or /docs, a public URL anyone may call in a loop. The
        routes are fixed at start-up; the text follows the caller's language."""
        key = (translation.get_language(), repr(args), repr(sorted(kwargs.items())))
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = self._build_openapi_schema(*args, **kwargs)
        return schema

    @cached_property
    def _schemas(self) -> dict[tuple[str, str, str], Any]:
        return {}

    def _build_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema.get("paths", {}).values():
            post = methods.get("post")
            if post is not None:
                params = post.setdefault("parameters", [])
                if not any(p.get("name") == idempotency.HEADER for p in params):
                    params.append(dict(idempotency.OPENAPI_PARAMETER))
        return schema


api = BaladiyaAPI(
    title="Baladiya API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs=OfflineDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_decorator(idempotency.idempotent, mode="view")
api.add_decorator(retry.retry_transient, mode="operation")
api.add_router("/auth", auth.router)
api.add_router("/", catalog.router)
api.add_router("/applications", applications.router)
api.add_router("/documents", documents.router)
