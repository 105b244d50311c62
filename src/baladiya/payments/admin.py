"""Receipts, refunds and cashier sessions: immutable money records, read-only here.

A correction is a refund recorded through `payments.services`, never an edit.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from baladiya.core.admin import ReadOnlyAdmin
from baladiya.core.money import format_pounds
from baladiya.payments.gateways import services as gateway_services
from baladiya.payments.models import (
    CashierSession,
    GatewayWebhook,
    IntentStatus,
    PaymentIntent,
    Receipt,
    Refund,
    SettlementImport,
)


def _pounds(piastres: int | None) -> str:
    return "" if piastres is None else format_pounds(piastres)


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "center",
        "business_date",
        "method",
        "amount_pounds",
        "payer_name",
        "application",
        "issued_by",
        "issued_at",
    )
    list_filter = ("center", "method", ("business_date", admin.DateFieldListFilter))
    list_select_related = ("center", "application", "issued_by")
    search_fields = ("=number", "=application__reference", "payer_name", "=external_ref")
    date_hierarchy = "business_date"
    exclude = ("idempotency_key",)
    show_full_result_count = False

    @admin.display(description=_("amount (SYP)"), ordering="amount")
    def amount_pounds(self, receipt: Receipt) -> str:
        return _pounds(receipt.amount)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "receipt",
        "center",
        "business_date",
        "method",
        "amount_pounds",
        "reason",
        "issued_by",
        "issued_at",
    )
    list_filter = ("center", "method", ("business_date", admin.DateFieldListFilter))
    list_select_related = ("receipt", "center", "issued_by")
    search_fields = ("=number", "=receipt__number", "reason")
    date_hierarchy = "business_date"
    exclude = ("idempotency_key",)

    @admin.display(description=_("amount (SYP)"), ordering="amount")
    def amount_pounds(self, refund: Refund) -> str:
        return _pounds(refund.amount)


@admin.register(CashierSession)
class CashierSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "center",
        "cashier",
        "business_date",
        "state",
        "opened_at",
        "float_pounds",
        "closed_at",
        "expected_pounds",
        "counted_pounds",
        "over_short_pounds",
    )
    list_filter = ("center", "state", ("business_date", admin.DateFieldListFilter))
    list_select_related = ("center", "cashier")
    search_fields = ("=cashier__username", "cashier__full_name", "=center__code")
    date_hierarchy = "business_date"

    @admin.display(description=_("opening float (SYP)"), ordering="opening_float")
    def float_pounds(self, session: CashierSession) -> str:
        return _pounds(session.opening_float)

    @admin.display(description=_("expected cash (SYP)"))
    def expected_pounds(self, session: CashierSession) -> str:
        return _pounds(session.expected_cash)

    @admin.display(description=_("cash counted (SYP)"))
    def counted_pounds(self, session: CashierSession) -> str:
        return _pounds(session.counted_cash)

    @admin.display(description=_("over (+) / short (-)"), ordering="over_short")
    def over_short_pounds(self, session: CashierSession) -> str:
        return _pounds(session.over_short)


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "application",
        "gateway",
        "gateway_payment_id",
        "status",
        "amount_pounds",
        "receipt",
        "refund_due",
    )
    list_filter = ("gateway", "status")
    list_select_related = ("application", "receipt")
    search_fields = ("=application__reference", "=gateway_payment_id", "=receipt__number")
    exclude = ("idempotency_key",)

    @admin.display(description=_("amount (SYP)"), ordering="amount")
    def amount_pounds(self, intent: PaymentIntent) -> str:
        return _pounds(intent.amount)


# What became of a webhook (`gateways.services`: the code is also the gateway's answer).
WEBHOOK_OUTCOMES = {
    gateway_services.RECORDED: _("Recorded"),
    gateway_services.ALREADY_RECORDED: _("Already recorded"),
    gateway_services.DUPLICATE: _("Received before"),
    gateway_services.IGNORED: _("Ignored (the payment was settled already)"),
    gateway_services.PENDING: _("Still pending at the gateway"),
    **{status.value: status.label for status in IntentStatus},
}


@admin.register(GatewayWebhook)
class GatewayWebhookAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "gateway", "event_id", "kind", "payment_id", "what_became")
    list_filter = ("gateway", "kind", "outcome")
    search_fields = ("=event_id", "=payment_id")

    @admin.display(description=_("outcome"), ordering="outcome")
    def what_became(self, webhook: GatewayWebhook) -> str:
        return str(WEBHOOK_OUTCOMES.get(webhook.outcome, webhook.outcome))


@admin.register(SettlementImport)
class SettlementImportAdmin(ReadOnlyAdmin):
    list_display = ("day", "gateway", "source", "line_count", "imported_by", "created_at")
    list_filter = ("gateway", "source")
    date_hierarchy = "day"
