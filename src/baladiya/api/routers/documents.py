"""Public document verification (no sign-in): the register's verdict for a number, or for a
QR payload. Keys for offline checks: /.well-known/baladiya/keys.json (docs/qr-payload.md)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field as NinjaField
from ninja import Query, Router, Schema, Status

from baladiya.api.errors import error_responses
from baladiya.api.schemas import VerdictOut
from baladiya.documents import verification

router = Router(tags=["documents"])


class VerifyQuery(Schema):
    p: str | None = NinjaField(
        None,
        max_length=4000,
        description="the QR code's payload (BLD1.…): checks its signature against the register",
    )


@router.get(
    "/{number}/verify",
    response={200: VerdictOut, **error_responses()},
    summary="Verify a document",
)
def verify(
    request: HttpRequest, response: HttpResponse, number: str, query: Query[VerifyQuery]
) -> Status[dict[str, Any]]:
    """`valid`, `revoked`, `expired`, `unknown` (not in the register, or not a document
    number) or — with a QR payload — `forged`. Looked up by number alone, the holder's name
    and national number are shortened (`masked`); the signed QR gives them in full."""
    if query.p:
        verdict = verification.verify_payload(query.p, number)
    else:
        verdict = verification.verify_number(number)
    body = dataclasses.asdict(verdict)
    body["message"] = str(body["message"])
    body["keys_url"] = settings.PUBLIC_BASE_URL + reverse("public_keys")
    # A verdict changes when a document is revoked: never from a cache.
    response["Cache-Control"] = "no-store"
    return Status(200, body)
