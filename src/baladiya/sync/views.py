"""Sync endpoints on the central node (`/sync/v1/...`): JSON in, JSON out, signed requests.

Errors are `{code, message}` in the node's language (Accept-Language), never a 500 page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from baladiya.core.errors import DomainError
from baladiya.sync import central, protocol
from baladiya.sync.models import CenterNode

# Signed requests, not a browser session: CSRF does not apply (no cookie is used).


def _error(exc: DomainError, **extra: Any) -> JsonResponse:
    return JsonResponse({"code": exc.code, "message": str(exc.message), **extra}, status=exc.status)


def _body(request: HttpRequest) -> Any:
    try:
        return protocol.decode_body(request.body, request.headers.get("Content-Encoding", ""))
    except ValueError as exc:
        raise DomainError(_("The request body is not valid: %(error)s") % {"error": exc}) from exc


def _node(request: HttpRequest) -> CenterNode:
    names = ("X-Baladiya-Center", "X-Baladiya-Key", "X-Baladiya-Time", "X-Baladiya-Signature")
    headers = {name: request.headers.get(name, "") for name in names}
    return central.authenticate(
        request.method or "GET", request.get_full_path(), headers, request.body
    )


@csrf_exempt
@require_POST
def enrol(request: HttpRequest) -> JsonResponse:
    try:
        data = _body(request)
        if not isinstance(data, dict):
            raise DomainError(_("The request body is not valid."))
        try:
            enrolment = central.Enrolment(
                center=str(data["center"]),
                key_id=str(data["key_id"]),
                key_pk=str(data["key_pk"]),
                public_key=str(data["public_key"]),
                proof=central.signing.b64decode(str(data["proof"])),
                proof_message=str(data["proof_message"]).encode("utf-8"),
            )
        except (KeyError, ValueError) as exc:
            raise DomainError(_("The enrolment request is incomplete.")) from exc
        return JsonResponse(central.enrol(enrolment))
    except DomainError as exc:
        return _error(exc)


@csrf_exempt
@require_POST
def push(request: HttpRequest) -> JsonResponse:
    try:
        node = _node(request)
        data = _body(request)
        if not isinstance(data, dict):
            raise DomainError(_("The request body is not valid."))
        result = central.apply_batch(
            node, data.get("events"), data.get("first_seq"), data.get("last_seq")
        )
        return JsonResponse(
            {
                "applied_through": result.applied_through,
                "applied": result.applied,
                "duplicates": result.duplicates,
                "conflicts": result.conflicts,
            }
        )
    except central.GapError as exc:
        return _error(exc, expected=exc.expected)
    except DomainError as exc:
        return _error(exc)


@csrf_exempt
@require_GET
def changes(request: HttpRequest) -> JsonResponse:
    try:
        node = _node(request)
        try:
            cursor = int(request.GET.get("cursor", "0"))
            limit = min(max(int(request.GET.get("limit", "1000")), 1), 5000)
        except ValueError as exc:
            raise DomainError(_("The cursor must be a number.")) from exc
        if cursor <= 0 and not central.snapshot_ready(node):
            return JsonResponse(
                {"code": "too_early", "message": _("Try again in a few seconds.")}, status=425
            )
        return JsonResponse(central.changes_for(node, cursor, limit))
    except DomainError as exc:
        return _error(exc)


@csrf_exempt
@require_POST
def heartbeat(request: HttpRequest) -> JsonResponse:
    from baladiya.centers.status import HeartbeatReport, record_heartbeat

    try:
        node = _node(request)
        report = HeartbeatReport.parse(_body(request))
        record_heartbeat(node.center, report)
        return JsonResponse({"ok": True, "last_seq": node.last_seq})
    except DomainError as exc:
        return _error(exc)
