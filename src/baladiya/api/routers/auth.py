"""Sign in: staff with username and password, citizens with a one-time code by SMS."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from baladiya.accounts import otp
from baladiya.accounts.permissions import citizen_of
from baladiya.accounts.services import client_ip
from baladiya.api import services
from baladiya.api.auth import bearer, user_of
from baladiya.api.errors import FieldErrors, error_responses
from baladiya.api.models import ApiToken
from baladiya.api.schemas import (
    CitizenRef,
    MeOut,
    OtpRequestIn,
    OtpRequestOut,
    OtpVerifyIn,
    RevokedOut,
    TokenIn,
    TokenOut,
)
from baladiya.core.validators import clean_mobile

router = Router(tags=["auth"])


def _token_out(issued: services.IssuedToken) -> dict[str, Any]:
    return {
        "token": issued.token,
        "kind": issued.record.kind,
        "expires_at": issued.record.expires_at,
    }


@router.post("/token", response={200: TokenOut, **error_responses()}, summary="Staff token")
def staff_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Exchange a staff member's username and password for a bearer token.

    Failed attempts count towards the same limit as the login form: after too many, the
    username or address is refused with 429 for a while (no password is checked then).
    """
    issued = services.issue_staff_token(request, payload.username, payload.password)
    return Status(200, _token_out(issued))


def _phone(raw: str) -> str:
    try:
        return clean_mobile(raw)
    except ValidationError as exc:
        raise FieldErrors({"phone": [str(m) for m in exc.messages]}) from exc


@router.post(
    "/otp/request",
    response={202: OtpRequestOut, **error_responses()},
    summary="Citizen: send a one-time code",
)
def otp_request(request: HttpRequest, payload: OtpRequestIn) -> Status[dict[str, Any]]:
    """Send a one-time code by SMS to a Syrian mobile number (+963 9X XXX XXXX).

    The answer is the same whether or not an account exists for the number. Requests are
    limited per number and per address (429).
    """
    phone = _phone(payload.phone)
    otp.request_code(phone, client_ip(request))
    return Status(
        202,
        {
            "sent": True,
            "message": _("If the number can receive SMS, a code is on its way."),
        },
    )


@router.post(
    "/otp/verify",
    response={200: TokenOut, **error_responses()},
    summary="Citizen: exchange the code for a token",
)
def otp_verify(request: HttpRequest, payload: OtpVerifyIn) -> Status[dict[str, Any]]:
    """Check the code sent to `phone`; the first success creates the citizen's account."""
    phone = _phone(payload.phone)
    ip = client_ip(request)
    user = otp.verify_code(phone, payload.code.strip(), ip)
    return Status(200, _token_out(services.issue_citizen_token(user, ip)))


@router.get("/me", response={200: MeOut, **error_responses()}, auth=bearer, summary="Who am I")
def me(request: HttpRequest) -> Status[dict[str, Any]]:
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    user = user_of(request)
    citizen = citizen_of(user)
    return Status(
        200,
        {
            "username": user.username,
            "kind": token.kind,
            "roles": sorted(user.role_codes()),
            "center": user.center.code if user.center_id and user.center else None,
            "citizen": CitizenRef(national_number=citizen.national_number, name=citizen.full_name)
            if citizen is not None
            else None,
            "token_expires_at": token.expires_at,
        },
    )


@router.delete(
    "/token", response={200: RevokedOut, **error_responses()}, auth=bearer, summary="Sign out"
)
def revoke(request: HttpRequest) -> Status[dict[str, Any]]:
    """Revoke the token this request is made with."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    services.revoke_token(token, token.user, "signed out through the API")
    return Status(200, {"revoked": True})
