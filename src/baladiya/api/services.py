"""API tokens: issue (staff by password, citizens by one-time code), authenticate, revoke.

A token is `bld_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored, so a
copy of the database gives no usable token. Every issue and revocation is audited; a failed
staff password counts towards the same rate limit as the login form (`accounts.services`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts.models import LoginAttempt, User
from baladiya.accounts.permissions import is_citizen_account
from baladiya.accounts.services import (
    LoginBlocked,
    LoginFailed,
    _blocked_message,
    _key,
    blocked_for,
    client_ip,
)
from baladiya.api.models import ApiToken
from baladiya.core import audit
from baladiya.core.errors import NotAllowed
from baladiya.core.queries import unique_or_none

TOKEN_PREFIX = "bld_"  # noqa: S105 - a marker, not a secret
# Writing `last_used_at` on every request would make each read a write: once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def staff_token_lifetime() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "API_STAFF_TOKEN_SECONDS", 0) or 8 * 3600))


def citizen_token_lifetime() -> dt.timedelta:
    return dt.timedelta(
        seconds=int(getattr(settings, "API_CITIZEN_TOKEN_SECONDS", 0) or 30 * 24 * 3600)
    )


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


def _center_code(user: User) -> str:
    return user.center.code if user.center_id and user.center else ""


def _issue(user: User, kind: str, lifetime: dt.timedelta, ip: str) -> IssuedToken:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiToken.objects.create(
            user=user,
            kind=kind,
            key_hash=hash_token(raw),
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            expires_at=timezone.now() + lifetime,
            created_ip=ip,
        )
        audit.record(
            "api.token_issued",
            actor=user,
            obj=record,
            center=_center_code(user),
            kind=kind,
            prefix=record.prefix,
            expires_at=record.expires_at.isoformat(),
            ip=ip,
        )
    return IssuedToken(raw, record)


def issue_staff_token(request: HttpRequest, username: str, password: str) -> IssuedToken:
    """Check a staff member's password under the login form's rate limit; issue a token.

    Raises `LoginBlocked` (429) while the username or address is blocked (no password is
    checked then), `LoginFailed` (400) for a wrong password or a disabled account, and
    `NotAllowed` (403) for an account without a staff role (citizens use the one-time code).
    """
    ip = client_ip(request)
    key = _key(username)
    wait = blocked_for(username, ip)
    if wait:
        audit.record("login.blocked", actor="anonymous", username=key, ip=ip, retry_in=wait)
        raise LoginBlocked(_blocked_message(wait))
    user = auth.authenticate(request, username=username.strip(), password=password)
    if not isinstance(user, User) or not user.is_active:
        with transaction.atomic():
            LoginAttempt.objects.create(username=key, ip=ip, succeeded=False)
            audit.record("login.failed", actor="anonymous", username=key, ip=ip, via="api")
        raise LoginFailed(_("Wrong username or password, or the account is disabled."))
    if not user.role_codes():
        audit.record("api.token_refused", actor=user, obj=user, ip=ip, reason="no_role")
        raise NotAllowed(
            _("Only staff get a token with a password; citizens sign in with a code."),
            code="not_staff",
        )
    with transaction.atomic():
        LoginAttempt.objects.create(username=key, ip=ip, succeeded=True)
        return _issue(user, ApiToken.Kind.STAFF, staff_token_lifetime(), ip)


def issue_citizen_token(user: User, ip: str) -> IssuedToken:
    """A token for a citizen who has just proved their phone with a one-time code."""
    if not is_citizen_account(user):
        # A staff member's phone-number account would bypass the password rate limit.
        raise NotAllowed(_("Staff accounts sign in with their password."), code="not_citizen")
    return _issue(user, ApiToken.Kind.CITIZEN, citizen_token_lifetime(), ip)


def authenticate_token(raw: str) -> ApiToken | None:
    """The usable token for `raw` (with its user), or None: unknown, expired, revoked, a
    disabled account, or a staff token whose user no longer holds any role."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = unique_or_none(
        # The citizen record too: a citizen's every call checks it (one query less).
        ApiToken.objects.select_related("user", "user__center", "user__citizen").filter(
            key_hash=hash_token(raw)
        )
    )
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    if token.kind == ApiToken.Kind.STAFF and not token.user.role_codes():
        return None
    if token.kind == ApiToken.Kind.CITIZEN and not is_citizen_account(token.user):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke_token(token: ApiToken, actor: Any, reason: str = "") -> ApiToken:
    """Revoke `token` (its owner, or an administrator). Revoking twice changes nothing."""
    is_owner = getattr(actor, "pk", None) == token.user_id
    if not is_owner and not (getattr(actor, "is_authenticated", False) and actor.has_role("admin")):
        raise NotAllowed(_("Only the token's owner or an administrator may revoke it."))
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record(
            "api.token_revoked",
            actor=actor,
            obj=locked,
            prefix=locked.prefix,
            owner=token.user.username,
            reason=reason[:200],
        )
    token.revoked_at = locked.revoked_at
    return locked


def purge_expired_tokens(older_than_days: int = 30) -> int:
    """Delete tokens expired or revoked more than `older_than_days` ago (a periodic task)."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _counts = ApiToken.objects.filter(expires_at__lt=cutoff).delete()
    more, _counts = ApiToken.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted + more
