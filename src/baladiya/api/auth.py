"""Bearer-token authentication for the API, and who is calling (for the idempotency store)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from baladiya.accounts.models import User
from baladiya.accounts.services import client_ip
from baladiya.api.models import ApiToken
from baladiya.api.services import authenticate_token

_UNSET = object()


def token_of(request: HttpRequest) -> ApiToken | None:
    """The usable token the request carries (looked up once per request), or None."""
    cached: Any = getattr(request, "_baladiya_api_token", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    scheme, _sep, raw = header.partition(" ")
    token = authenticate_token(raw.strip()) if scheme.lower() == "bearer" else None
    request._baladiya_api_token = token  # type: ignore[attr-defined]
    return token


def caller_of(request: HttpRequest) -> str:
    """`user:<id>` for a valid token (any of the user's tokens: a client that signed in again
    still replays its earlier requests), else `anon:<address>`."""
    token = token_of(request)
    if token is not None:
        return f"user:{token.user_id}"
    return f"anon:{client_ip(request)}"


class BearerToken(HttpBearer):
    """`Authorization: Bearer bld_…` — a token from /auth/token (staff) or /auth/otp/verify."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_of(request)


bearer = BearerToken()


def user_of(request: HttpRequest) -> User:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return token.user


def is_citizen_token(request: HttpRequest) -> bool:
    token: ApiToken | None = getattr(request, "auth", None)
    return token is not None and token.kind == ApiToken.Kind.CITIZEN
