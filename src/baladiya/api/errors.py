"""Every API error is JSON `{"code", "message"}` (plus `fields` for validation errors), with the
message in the caller's language (Accept-Language: ar by default, en) and the right 4xx.

DomainError keeps its own status and code (403 forbidden, 404 not_found, 409 conflict or
illegal_transition, 429 throttled…); Django's and ninja's validation errors become 422 with
the message of each field; nothing unexpected reaches the client as HTML or a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from baladiya.core.errors import DomainError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("django.request")


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


# Documented on every operation, so clients (and the schema tests) know each error's shape.
ERROR_STATUSES = (400, 401, 403, 404, 409, 422, 429)


def error_responses(*extra: int) -> dict[int, type[ErrorOut]]:
    return {status: ErrorOut for status in (*ERROR_STATUSES, *extra)}


def error_response(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


# ---------------------------------------------------------------- validation details


def _pydantic_message(error: dict[str, Any]) -> str:
    """A translated sentence for one pydantic error (pydantic's own texts are English only)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("This field is not expected here.")
    if kind in ("string_too_long", "too_long"):
        return _("This value is too long (at most %(n)s).") % {"n": ctx.get("max_length", "?")}
    if kind in ("string_too_short", "too_short"):
        return _("This value is too short.")
    if kind.startswith("string") or kind == "str_type":
        return _("Enter text here.")
    if kind.startswith("int") or kind.startswith("float"):
        return _("Enter a whole number.")
    if kind.startswith("bool"):
        return _("Enter true or false.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("An object is expected here.")
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("A list is expected here.")
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        expected = ctx.get("expected", "")
        return (
            _("Choose one of: %(choices)s.") % {"choices": expected}
            if expected
            else _("Choose one of the allowed values.")
        )
    if kind == "union_tag_not_found":
        return _("Say which kind this is (%(tag)s).") % {"tag": ctx.get("discriminator", "")}
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")) or _("This value is not valid.")
    return _("This value is not valid.")


def _location(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    # ninja prefixes the source ("body", "query", "path", "header"); a single body schema
    # parameter adds its own name, which says nothing to the client.
    if parts and parts[0] == "body" and len(parts) > 1 and parts[1] == "payload":
        parts = parts[2:] or ["body"]
    elif parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts[:1]
    return ".".join(parts) or "__all__"


def ninja_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for error in errors:
        fields.setdefault(_location(error.get("loc", ())), []).append(_pydantic_message(error))
    return fields


def django_fields(exc: DjangoValidationError, prefix: str = "") -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (f"{prefix}{name}" if name != "__all__" else (prefix.rstrip(".") or name)): [
                str(m) for e in errors for m in e.messages
            ]
            for name, errors in exc.error_dict.items()
        }
    return {prefix.rstrip(".") or "__all__": [str(m) for m in exc.messages]}


class FieldErrors(DomainError):
    """Validation of the request's content failed; `fields` says where (dotted paths)."""

    status = 422
    code = "validation_error"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message or _("Some values are missing or not valid."))
        self.fields = fields


# ---------------------------------------------------------------- handlers


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every exception into a JSON error."""

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        fields = exc.fields if isinstance(exc, FieldErrors) else None
        response = error_response(exc.status, exc.code, str(exc.message), fields)
        if exc.status == 429:
            response["Retry-After"] = "60"
        return response

    @api.exception_handler(DjangoValidationError)
    def django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return error_response(
            422,
            "validation_error",
            _("Some values are missing or not valid."),
            django_fields(exc),
        )

    @api.exception_handler(NinjaValidationError)
    def ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return error_response(
            422,
            "validation_error",
            _("Some values are missing or not valid."),
            ninja_fields(exc.errors),
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = error_response(
            401,
            "unauthorized",
            _("Sign in first: send “Authorization: Bearer <token>” with a valid token."),
        )
        response["WWW-Authenticate"] = 'Bearer realm="baladiya"'
        return response

    @api.exception_handler(AuthorizationError)
    def unauthorized(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
        return error_response(403, "forbidden", _("Your role or center does not allow this."))

    @api.exception_handler(Throttled)
    def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        return error_response(429, "throttled", _("Too many requests. Try again later."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400:  # ninja: the body is not JSON
            return error_response(
                400, "malformed_request", _("The request body is not valid JSON.")
            )
        return status_error(exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return status_error(404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return status_error(403)

    @api.exception_handler(OperationalError)
    def operational(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        from baladiya.api.retry import is_transient

        if not is_transient(exc):
            return unexpected(request, exc)
        response = error_response(
            409, "busy", _("Others are changing the same records right now. Try again.")
        )
        response["Retry-After"] = "1"
        return response

    @api.exception_handler(DataError)
    def data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
        # A value the database cannot store (a NUL character, say) that slipped past the
        # schema: the statement failed, nothing was written.
        return error_response(422, "invalid_value", _("A value in the request is not valid."))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return status_error(413)

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return status_error(400)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=exc,
            extra={"status_code": 500, "request": request},
        )
        return status_error(500)


def status_error(status: int) -> JsonResponse:
    """The JSON error for a bare HTTP status (a non-JSON response from Django or ninja)."""
    known: dict[int, tuple[str, str]] = {
        400: ("bad_request", _("The request is not valid.")),
        401: ("unauthorized", _("Sign in first.")),
        403: ("forbidden", _("Your role or center does not allow this.")),
        404: ("not_found", _("The page or record you asked for does not exist.")),
        405: ("method_not_allowed", _("This method is not allowed here.")),
        413: ("too_large", _("The request is too large.")),
        415: ("unsupported_media_type", _("Send the request body as JSON.")),
        429: ("throttled", _("Too many requests. Try again later.")),
    }
    code, message = known.get(
        status,
        ("server_error", _("The error was recorded. Nothing was changed. Please try again.")),
    )
    return error_response(status, code, message)
