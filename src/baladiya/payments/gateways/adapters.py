"""Adapters for the Syrian payment channels: placeholders that say so.

Each channel is one `PaymentGateway` subclass. We have no public, official merchant API
specification for any of them, so none is implemented: every method raises `NotConfigured`
with a clear message instead of pretending to pay. Enabling one of these names in
`BALADIYA_PAYMENT_GATEWAYS` therefore shows the citizen "this channel is not available" and
writes nothing. To implement one, fill in the five methods from the provider's merchant
documentation (see docs/decisions/0006-payment-gateways.md, "Adding a channel").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NoReturn

from django.utils.translation import gettext_lazy as _

from baladiya.payments.gateways.base import (
    GatewayEvent,
    NotConfigured,
    PaymentGateway,
    PaymentState,
    RefundResult,
    SettlementRecord,
    StartedPayment,
    StartRequest,
)


class UnimplementedGateway(PaymentGateway):
    """Every operation raises `NotConfigured`: the adapter exists, the integration does not."""

    def _missing(self) -> NoReturn:
        raise NotConfigured(
            _("Payment by %(name)s is not available yet: this channel is not connected.")
            % {"name": self.label or self.name}
        )

    def start(self, request: StartRequest) -> StartedPayment:
        self._missing()

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> GatewayEvent:
        self._missing()

    def query(self, payment_id: str) -> PaymentState:
        self._missing()

    def refund(self, payment_id: str, amount: int, reference: str) -> RefundResult:
        self._missing()

    def fetch_settlement(self, day: dt.date) -> bytes:
        self._missing()

    def parse_settlement(self, content: bytes) -> list[SettlementRecord]:
        self._missing()


class SyrianEPaymentGateway(UnimplementedGateway):
    """Bank cards through the national e-payment switch: a hosted card page (redirect) and a
    server-to-server notification; maps one-to-one onto this interface."""

    name = "sep"
    label = _("Bank e-payment")


class SyriatelCashGateway(UnimplementedGateway):
    """Syriatel Cash wallet: the payer confirms on their phone, so `start` would send the
    request to `StartRequest.payer_phone` and return our own waiting page as redirect URL."""

    name = "syriatel"
    label = _("Syriatel Cash")


class MtnCashGateway(UnimplementedGateway):
    """MTN Cash wallet: same shape as Syriatel Cash (confirmation on the payer's phone)."""

    name = "mtn"
    label = _("MTN Cash")


class ShamCashGateway(UnimplementedGateway):
    """Sham Cash wallet: same shape as the other wallets."""

    name = "shamcash"
    label = _("Sham Cash")
