"""`Idempotency-Key` on every POST of the API.

A client that is not sure its POST arrived (a timeout, a dropped connection) sends it again
with the same key and gets the first answer back instead of a second application or payment.

- The first request with a key *claims* it: a row (caller, key, method, path, body hash) is
  inserted before the operation runs. The unique (caller, key) pair means two concurrent
  copies collide in the database: the second waits for the first to finish (up to
  `WAIT_SECONDS`), then replays its answer — or gets 409 `idempotency_in_progress`.
- A successful (2xx) answer is stored, sealed with a key derived from SECRET_KEY (it may hold
  a token or personal data), and replayed to the same caller for `RETENTION` with the header
  `Idempotent-Replayed: true`.
- An error answer is not stored: errors change nothing, so the key is released and the client
  may fix the cause (open the cash drawer, say) and retry with the same key.
- The same key with a different body, method or path: 422 `idempotency_key_reused`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import wraps
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext as _

from baladiya.api.auth import caller_of
from baladiya.api.errors import error_response
from baladiya.api.models import IdempotencyRecord
from baladiya.core.queries import unique_or_none

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
RETENTION = dt.timedelta(hours=24)
STALE_AFTER = dt.timedelta(seconds=60)  # a claim whose worker died is taken over after this
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05

# Printable ASCII, no space at either end (HTTP servers strip those from header values).
KEY_PATTERN = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")

OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": (
        "Any unique string (a UUID) of up to 200 printable characters. Sending the same POST "
        "again with the same key returns the first answer instead of doing it twice."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": KEY_PATTERN.pattern,
    },
}


def _cipher() -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"baladiya.api.idempotency"
    ).derive(settings.SECRET_KEY.encode())
    return AESGCM(key)


def _aad(caller: str, key: str) -> bytes:
    return f"{caller}\n{key}".encode()


def seal(caller: str, key: str, content_type: str, body: bytes) -> bytes:
    nonce = os.urandom(12)
    plain = content_type.encode() + b"\n" + body
    return nonce + _cipher().encrypt(nonce, plain, _aad(caller, key))


def unseal(caller: str, key: str, sealed: bytes) -> tuple[str, bytes] | None:
    """(content type, body), or None if it cannot be opened (SECRET_KEY changed)."""
    try:
        plain = _cipher().decrypt(sealed[:12], sealed[12:], _aad(caller, key))
    except (InvalidTag, ValueError):
        return None
    content_type, _sep, body = plain.partition(b"\n")
    return content_type.decode(), body


def body_hash(request: HttpRequest) -> str:
    """SHA-256 of the body; JSON is canonicalised first (key order and spacing don't count)."""
    raw = request.body
    try:
        canonical = json.dumps(
            json.loads(raw), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):  # absurdly nested JSON: raw bytes
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def valid_key(key: str) -> bool:
    return len(key) <= MAX_KEY_LENGTH and KEY_PATTERN.fullmatch(key) is not None


# ---------------------------------------------------------------- the claim


@dataclass
class Claim:
    record: IdempotencyRecord | None = None  # ours: run the operation, then finish it
    replay: HttpResponse | None = None  # someone else's answer, or an error to return


def _reused() -> HttpResponse:
    return error_response(
        422,
        "idempotency_key_reused",
        _(
            "This Idempotency-Key was already used for a different request. "
            "Use a new key for a new request."
        ),
    )


def _in_progress() -> HttpResponse:
    response = error_response(
        409,
        "idempotency_in_progress",
        _("A request with this Idempotency-Key is still being processed. Try again shortly."),
    )
    response["Retry-After"] = "1"
    return response


def _is_dead(record: IdempotencyRecord, now: dt.datetime) -> bool:
    if record.status is None:
        return now - record.created_at > STALE_AFTER
    return record.completed_at is None or now - record.completed_at > RETENTION


def _replay(record: IdempotencyRecord) -> HttpResponse | None:
    opened = unseal(record.caller, record.key, bytes(record.response or b""))
    if opened is None or record.status is None:
        return None
    content_type, body = opened
    response = HttpResponse(body, status=record.status, content_type=content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def claim(caller: str, key: str, method: str, path: str, digest: str) -> Claim:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            # One INSERT is atomic on its own: in autocommit it needs no BEGIN/COMMIT round
            # trips; inside a transaction (tests) a savepoint keeps that one usable.
            guard: AbstractContextManager[Any] = (
                transaction.atomic() if connection.in_atomic_block else nullcontext()
            )
            with guard:
                record = IdempotencyRecord.objects.create(
                    caller=caller, key=key, method=method, path=path[:400], body_hash=digest
                )
            return Claim(record=record)
        except IntegrityError:
            pass
        existing = unique_or_none(IdempotencyRecord.objects.filter(caller=caller, key=key))
        if existing is None:
            continue  # released (the first attempt failed) between our insert and read
        if _is_dead(existing, timezone.now()):
            IdempotencyRecord.objects.filter(pk=existing.pk, status=existing.status).delete()
            continue
        if (existing.method, existing.path, existing.body_hash) != (method, path[:400], digest):
            return Claim(replay=_reused())
        if existing.status is not None:
            replayed = _replay(existing)
            if replayed is not None:
                return Claim(replay=replayed)
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()  # unreadable: start over
            continue
        if time.monotonic() >= deadline:
            return Claim(replay=_in_progress())
        time.sleep(POLL_SECONDS)


def finish(record: IdempotencyRecord, response: HttpResponseBase) -> None:
    """Keep a successful answer for replays; release the key after an error."""
    status = response.status_code
    if 200 <= status < 300 and isinstance(response, HttpResponse):
        sealed = seal(record.caller, record.key, response.get("Content-Type", ""), response.content)
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status=status, response=sealed, completed_at=timezone.now()
        )
    else:
        release(record)


def release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, status__isnull=True).delete()


# ---------------------------------------------------------------- the decorator


def idempotent(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap a ninja operation's `run` (auth, validation, the view, the response)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        raw = request.headers.get(HEADER)
        if request.method != "POST" or raw is None:
            return run(request, *args, **kwargs)
        key = raw
        if not valid_key(key):
            return error_response(
                422,
                "idempotency_key_invalid",
                _(
                    "The Idempotency-Key must be 1 to 200 printable ASCII characters, "
                    "without spaces at either end."
                ),
                {HEADER: [_("Use a UUID, for example.")]},
            )
        method = request.method or "POST"
        path = escape_uri_path(request.path)  # as sent: no NUL or other raw control bytes
        outcome = claim(caller_of(request), key, method, path, body_hash(request))
        if outcome.replay is not None:
            return outcome.replay
        assert outcome.record is not None
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            release(outcome.record)
            raise
        finish(outcome.record, response)
        return response

    return wrapper


def scoped_key(request: HttpRequest, suffix: str = "") -> str | None:
    """The request's key, scoped to its caller, for a service's own idempotency column
    (max 80 characters): a second line of defence if a claim was taken over as stale."""
    raw = request.headers.get(HEADER) or ""
    if not valid_key(raw):
        return None
    digest = hashlib.sha256(f"{caller_of(request)}\n{raw}\n{suffix}".encode()).hexdigest()
    return f"api:{digest[:60]}"


def purge_records(now: dt.datetime | None = None) -> int:
    """Delete answers older than RETENTION and dead claims (a periodic task may call this)."""
    moment = now or timezone.now()
    done, _counts = IdempotencyRecord.objects.filter(completed_at__lt=moment - RETENTION).delete()
    stale, _counts = IdempotencyRecord.objects.filter(
        status__isnull=True, created_at__lt=moment - STALE_AFTER
    ).delete()
    return done + stale
