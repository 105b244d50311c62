"""Request and response shapes of the public API (a public contract: add fields, never rename).

Amounts are integers in piastres (1/100 SYP), as payment APIs count the smallest unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils.translation import gettext
from ninja import Field, Schema
from pydantic import ConfigDict, model_validator

FieldType = Literal["text", "national_number", "phone", "date", "number", "choice", "file"]
DeliveryModeName = Literal["pickup", "post"]
VerdictStatus = Literal["valid", "revoked", "unknown", "expired", "forged"]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class Strict(Schema):
    """Input shape: an unknown key is an error (a typo must not be silently ignored), and no
    text may hold a NUL character (no database stores it; PostgreSQL refuses it)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError(gettext("Text may not contain NUL characters."))
        return value


class Names(Schema):
    ar: str
    en: str


class Money(Schema):
    amount: int = Field(..., description="piastres (1/100 SYP)", examples=[500000])
    currency: str = Field("SYP", examples=["SYP"])


# ---------------------------------------------------------------- auth


class TokenIn(Strict):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=1024)


class TokenOut(Schema):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    kind: Literal["staff", "citizen"]
    expires_at: dt.datetime


class OtpRequestIn(Strict):
    phone: str = Field(..., max_length=30, examples=["+963944123456"])


class OtpRequestOut(Schema):
    sent: bool
    message: str


class OtpVerifyIn(Strict):
    phone: str = Field(..., max_length=30, examples=["+963944123456"])
    code: str = Field(..., min_length=1, max_length=12)


class CitizenRef(Schema):
    national_number: str
    name: str


class MeOut(Schema):
    username: str
    kind: Literal["staff", "citizen"]
    roles: list[str]
    center: str | None
    citizen: CitizenRef | None
    token_expires_at: dt.datetime


class RevokedOut(Schema):
    revoked: bool


# ---------------------------------------------------------------- catalog and centers


class FieldOut(Schema):
    name: str
    type: FieldType
    required: bool
    choices: list[str]
    label: Names


class AgencyOut(Schema):
    code: str
    name: Names


class ServiceOut(Schema):
    code: str
    name: Names
    description: Names
    agency: AgencyOut
    fee: Money
    delivery_modes: list[DeliveryModeName]
    approval: Literal["counter", "back_office"]
    sla_days: int
    fields: list[FieldOut]


class CenterOut(Schema):
    code: str
    name: Names
    kind: str
    accepts_pickup: bool
    address: str
    opening_hours: str


# ---------------------------------------------------------------- applications


class ApplicantIn(Strict):
    national_number: str = Field(..., max_length=20, examples=["04012345678"])
    name: str = Field("", max_length=200, description="full name: first, father's, family")
    phone: str = Field("", max_length=30, examples=["+963944123456"])
    first_name: str = Field("", max_length=60)
    father_name: str = Field("", max_length=60)
    last_name: str = Field("", max_length=60)
    mother_name: str = Field("", max_length=120)
    birth_date: dt.date | None = None


class PostalAddressIn(Strict):
    line: str = Field(..., min_length=1, max_length=200, description="street, building, floor")
    neighbourhood: str = Field("", max_length=120)
    phone: str = Field("", max_length=30)


class PickupIn(Strict):
    mode: Literal["pickup"]
    center: str = Field(..., max_length=8, examples=["C02"])


class PostIn(Strict):
    mode: Literal["post"]
    address: PostalAddressIn


class FileIn(Strict):
    """A file field's value: PDF, PNG or JPEG, base64-encoded (at most the upload limit)."""

    filename: str = Field(..., min_length=1, max_length=200)
    content_base64: str


FieldValue = str | int | bool | None | FileIn


class ApplicationIn(Strict):
    service: str = Field(..., max_length=40, examples=["civil-individual-extract"])
    applicant: ApplicantIn | None = Field(
        None, description="required for staff; a citizen applies for themselves"
    )
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    delivery: Annotated[PickupIn | PostIn, Field(discriminator="mode")]
    note: str = Field("", max_length=2000)


class DeliveryOut(Schema):
    mode: DeliveryModeName
    center: str | None = None
    address: dict[str, Any] | None = None


class ApplicationCreatedOut(Schema):
    reference: str = Field(..., examples=["C00-26-000001"])
    status: str = Field(..., examples=["submitted"])
    amount_due: Money
    service: str
    channel: Literal["counter", "online"]
    center: str
    delivery: DeliveryOut
    created_at: dt.datetime


class EventOut(Schema):
    action: str
    from_status: str
    to_status: str
    at: dt.datetime
    by: str
    note: str


class ReceiptOut(Schema):
    number: str
    amount: Money
    method: Literal["cash", "gateway"]
    issued_at: dt.datetime
    center: str
    refunded: Money


class DocumentRefOut(Schema):
    number: str
    state: Literal["valid", "revoked"]
    valid_until: dt.date
    verify_url: str


class ServiceRefOut(Schema):
    code: str
    name: Names


class ApplicationOut(Schema):
    reference: str
    status: str
    status_label: str
    service: ServiceRefOut
    channel: Literal["counter", "online"]
    center: str
    fee: Money
    amount_due: Money
    delivery: DeliveryOut
    created_at: dt.datetime
    updated_at: dt.datetime
    sla_due: dt.date
    history: list[EventOut]
    receipts: list[ReceiptOut]
    document: DocumentRefOut | None


class ActionIn(Strict):
    action: Literal["start_review", "approve", "return", "reject", "cancel", "issue"]
    note: str = Field("", max_length=2000)


class ActionOut(Schema):
    reference: str
    status: str
    document: DocumentRefOut | None


# ---------------------------------------------------------------- payments


class PaymentIn(Strict):
    method: Literal["cash", "online"] | None = Field(
        None, description="default: cash for a cashier, online for everyone else"
    )
    gateway: str | None = Field(None, max_length=40, description="online: which gateway")
    return_url: str | None = Field(
        None, max_length=500, description="online: where the payer's browser goes afterwards"
    )


class PaymentIntentOut(Schema):
    id: str
    status: str
    amount: Money
    gateway: str | None = None


class ApplicationStateOut(Schema):
    reference: str
    status: str


class PaymentOut(Schema):
    action: Literal["redirect", "none"] = Field(
        ..., description="redirect: send the payer to `url`; none: nothing left to do"
    )
    url: str | None = None
    payment: PaymentIntentOut | None = None
    receipt: ReceiptOut | None = None
    application: ApplicationStateOut


class PaymentStateOut(Schema):
    payment: PaymentIntentOut
    receipt: ReceiptOut | None = Field(None, description="once the payment is recorded")
    application: ApplicationStateOut


# ---------------------------------------------------------------- documents


class VerdictOut(Schema):
    status: VerdictStatus
    message: str
    number: str
    holder: str
    national_number: str
    title: str
    issued: str
    valid_until: str
    center: str
    key_id: str
    in_register: bool
    masked: bool
    revoked_at: dt.datetime | None
    keys_url: str
