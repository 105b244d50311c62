"""The payment-gateway interface: what every channel (a bank's e-payment, a mobile wallet,
the sandbox) implements, and the plain values that cross it.

A gateway is an outside system: our code talks to it only through `PaymentGateway`, and it
talks back only through signed webhooks (`parse_webhook`), status answers (`query`) and its
daily settlement file. Amounts are integer piastres; times are aware datetimes (UTC).
See docs/decisions/0006-payment-gateways.md.
"""

from __future__ import annotations

import abc
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from baladiya.core.errors import DomainError, NotFound

# ---------------------------------------------------------------- errors


class GatewayError(DomainError):
    """The gateway refused an operation or gave an answer we cannot use. Nothing was written
    on our side."""

    status = 502
    code = "gateway_error"


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached (timeout, 5xx): try again later."""

    status = 503
    code = "gateway_unavailable"


class NotConfigured(GatewayUnavailable):
    """The channel is not set up on this node (no adapter implementation, no merchant
    credentials, no webhook secret)."""

    code = "gateway_not_configured"


class UnknownGateway(NotFound):
    code = "unknown_gateway"


class BadSignature(DomainError):
    """A webhook whose signature is missing, malformed, wrong or too old: it is ignored."""

    status = 400
    code = "bad_signature"


class SettlementFileError(DomainError):
    code = "bad_settlement_file"


# ---------------------------------------------------------------- values


class GatewayStatus(enum.StrEnum):
    """A payment's state as the gateway sees it."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    EXPIRED = "expired"


class EventKind(enum.StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_DECLINED = "payment.declined"
    PAYMENT_ABANDONED = "payment.abandoned"
    PAYMENT_EXPIRED = "payment.expired"
    REFUND_SUCCEEDED = "refund.succeeded"

    @property
    def payment_status(self) -> GatewayStatus | None:
        return _EVENT_STATUS.get(self)


_EVENT_STATUS = {
    EventKind.PAYMENT_SUCCEEDED: GatewayStatus.SUCCEEDED,
    EventKind.PAYMENT_DECLINED: GatewayStatus.DECLINED,
    EventKind.PAYMENT_ABANDONED: GatewayStatus.ABANDONED,
    EventKind.PAYMENT_EXPIRED: GatewayStatus.EXPIRED,
}


@dataclass(frozen=True)
class StartRequest:
    """What we ask the gateway for. `merchant_ref` is our intent id (the gateway echoes it);
    `return_url` is where the payer's browser comes back; `notify_url` receives webhooks."""

    merchant_ref: str
    amount: int
    currency: str
    description: str
    return_url: str
    notify_url: str
    payer_phone: str = ""  # wallets (Syriatel Cash, MTN Cash) push the request to this phone
    language: str = "ar"


@dataclass(frozen=True)
class StartedPayment:
    """The gateway's payment id and where to send the payer (its hosted page; for a channel
    that pushes to the payer's phone, our own waiting page)."""

    payment_id: str
    redirect_url: str


@dataclass(frozen=True)
class PaymentState:
    """A payment as the gateway reports it (status query or webhook)."""

    payment_id: str
    merchant_ref: str
    status: GatewayStatus
    amount: int
    currency: str
    paid_at: dt.datetime | None = None


@dataclass(frozen=True)
class GatewayEvent:
    """A verified webhook. `event_id` is unique per gateway: the same id twice is one event."""

    event_id: str
    kind: EventKind
    payment: PaymentState
    occurred_at: dt.datetime
    refund_id: str = ""
    refund_amount: int = 0


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: int


@dataclass(frozen=True)
class SettlementRecord:
    """One line of a daily settlement file: a captured payment or a refund."""

    kind: str  # "payment" | "refund"
    transaction_id: str  # the payment's id, or the refund's id
    payment_id: str
    merchant_ref: str
    amount: int
    occurred_at: dt.datetime | None


# ---------------------------------------------------------------- the interface


class PaymentGateway(abc.ABC):
    """One payment channel. Adapters are stateless apart from their configuration; the
    registry (`payments.gateways.registry`) builds one per call with its secrets.

    Every method either returns a value or raises a `GatewayError` (never a bare network
    exception), so the caller can show a clear message and write nothing.
    """

    name: str = ""
    label: str | Promise = ""
    # Whether the payer leaves our site: relative return URLs are then made absolute.
    external: bool = True

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets = [s for s in (secrets or []) if s]

    @abc.abstractmethod
    def start(self, request: StartRequest) -> StartedPayment:
        """Create the payment at the gateway. Must be idempotent on `merchant_ref` where the
        gateway allows it (a retried start must not create a second payable session)."""

    @abc.abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        """Check the signature over the raw body (raise `BadSignature`), then parse it."""

    @abc.abstractmethod
    def query(self, payment_id: str) -> PaymentState:
        """Ask the gateway for the payment's current state (the browser came back before
        the webhook, or the webhook never came)."""

    @abc.abstractmethod
    def refund(self, payment_id: str, amount: int, reference: str) -> RefundResult:
        """Give back `amount` of a captured payment. Idempotent on `reference` (our refund
        number): asking twice refunds once."""

    @abc.abstractmethod
    def fetch_settlement(self, day: dt.date) -> bytes:
        """The gateway's settlement file for `day` (Asia/Damascus), as the gateway sends it."""

    @abc.abstractmethod
    def parse_settlement(self, content: bytes) -> list[SettlementRecord]:
        """Read a settlement file (fetched, or uploaded by a finance officer)."""

    def require_secrets(self) -> list[str]:
        if not self.secrets:
            raise NotConfigured(
                _("The payment channel “%(name)s” has no webhook secret configured.")
                % {"name": self.label or self.name}
            )
        return self.secrets


def external_ref(gateway: str, transaction_id: str) -> str:
    """How a gateway transaction is written on a receipt or refund: `sandbox:sbx_…`."""
    return f"{gateway}:{transaction_id}"


def split_external_ref(ref: str) -> tuple[str, str] | None:
    """`sandbox:sbx_…` -> ("sandbox", "sbx_…"); None for a reference without a gateway."""
    gateway, sep, transaction_id = ref.partition(":")
    if not sep or not gateway or not transaction_id:
        return None
    return gateway, transaction_id
