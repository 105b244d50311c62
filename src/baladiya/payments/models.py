from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class CashierSession(BaseModel):
    """A cashier's drawer from opening (with a float) to closing (cash counted)."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    center = models.ForeignKey(
        "centers.Center",
        on_delete=models.PROTECT,
        related_name="sessions",
        verbose_name=_("center"),
    )
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cashier_sessions",
        verbose_name=_("cashier"),
    )
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.OPEN, verbose_name=_("state")
    )
    opened_at = models.DateTimeField(verbose_name=_("opened at"))
    business_date = models.DateField(
        _("business day"),
        db_index=True,
        help_text=_("The day (Asia/Damascus) the drawer was opened; all its money counts there."),
    )
    opening_float = models.PositiveBigIntegerField(_("opening float (piastres)"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    counted_cash = models.PositiveBigIntegerField(
        _("cash counted (piastres)"), null=True, blank=True
    )
    expected_cash = models.BigIntegerField(null=True, blank=True, verbose_name=_("expected cash"))
    over_short = models.BigIntegerField(
        _("over (+) / short (-)"), null=True, blank=True, help_text=_("counted − expected")
    )

    class Meta:
        verbose_name = _("cash drawer")
        verbose_name_plural = _("cash drawers")
        ordering = ["-opened_at"]
        constraints = [
            # One open drawer per cashier: a second "open" is a double submit, not a new drawer.
            models.UniqueConstraint(
                fields=["cashier"], condition=models.Q(state="open"), name="one_open_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.center.code} {self.cashier} {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    def save(self, *args: object, **kwargs: object) -> None:
        # A closed drawer's count is final: the database row, not this instance, decides.
        if not self._state.adding and (
            CashierSession.objects.filter(pk=self.pk, state=self.State.CLOSED).exists()
        ):
            raise ValueError("Closed cashier sessions are immutable.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    GATEWAY = "gateway", _("Electronic payment")


class Receipt(BaseModel):
    """Immutable proof of a payment. A correction is a Refund (reversal), never an edit."""

    number = models.CharField(_("receipt number"), max_length=24, unique=True)
    center = models.ForeignKey(
        "centers.Center",
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("center"),
    )
    application = models.ForeignKey(
        "applications.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("application"),
    )
    session = models.ForeignKey(
        CashierSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("drawer"),
    )
    method = models.CharField(
        max_length=10, choices=PaymentMethod.choices, verbose_name=_("method")
    )
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    payer_name = models.CharField(max_length=200, verbose_name=_("payer name"))
    description = models.CharField(max_length=250, verbose_name=_("description"))
    issued_at = models.DateTimeField(db_index=True, verbose_name=_("issued at"))
    business_date = models.DateField(db_index=True, verbose_name=_("business date"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    external_ref = models.CharField(max_length=80, blank=True, verbose_name=_("external reference"))
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, verbose_name=_("idempotency key")
    )

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-issued_at"]
        constraints = [
            # A replayed gateway notification must never make a second receipt.
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=models.Q(method="gateway") & ~models.Q(external_ref=""),
                name="one_receipt_per_gateway_ref",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Receipts are immutable; record a refund instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def refunded_amount(self) -> int:
        return sum(r.amount for r in self.refunds.all())


class Refund(BaseModel):
    """A reversing entry against a receipt, paid out of a cashier session (or the gateway)."""

    number = models.CharField(_("refund number"), max_length=24, unique=True)
    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("receipt")
    )
    center = models.ForeignKey(
        "centers.Center", on_delete=models.PROTECT, related_name="refunds", verbose_name=_("center")
    )
    session = models.ForeignKey(
        CashierSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("drawer"),
    )
    method = models.CharField(
        max_length=10, choices=PaymentMethod.choices, verbose_name=_("method")
    )
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    reason = models.CharField(_("reason"), max_length=250)
    issued_at = models.DateTimeField(db_index=True, verbose_name=_("issued at"))
    business_date = models.DateField(db_index=True, verbose_name=_("business date"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, verbose_name=_("idempotency key")
    )
    # The gateway's refund id, `<gateway>:<id>`, for an electronic refund.
    external_ref = models.CharField(max_length=80, blank=True, verbose_name=_("external reference"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-issued_at"]
        constraints = [
            # A refund notified twice by the gateway is recorded once.
            models.UniqueConstraint(
                fields=["external_ref"],
                condition=models.Q(method="gateway") & ~models.Q(external_ref=""),
                name="one_refund_per_gateway_ref",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Refunds are immutable.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------- online payment (our side)


class IntentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Waiting for the payment")
    SUCCEEDED = "succeeded", _("Paid")
    DECLINED = "declined", _("Declined")
    ABANDONED = "abandoned", _("Abandoned")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")


OPEN_INTENT_STATES = (IntentStatus.CREATED, IntentStatus.PENDING)


class PaymentIntent(BaseModel):
    """One attempt to pay an application through a gateway (see payments/gateways).

    created → pending → succeeded / declined / abandoned / expired; succeeded → refunded.
    A success reported by the gateway wins over any other state (money taken is receipted).
    """

    # What is paid: an application's fee, or something else a purpose registered for
    # (`payments.gateways.purposes`, e.g. water bills), described by `subject`.
    application = models.ForeignKey(
        "applications.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_intents",
        verbose_name=_("application"),
    )
    purpose = models.CharField(_("purpose"), max_length=20, default="application")
    subject = models.JSONField(default=dict, blank=True, verbose_name=_("subject"))
    payer_name = models.CharField(max_length=200, blank=True, verbose_name=_("payer name"))
    payer_phone = models.CharField(max_length=20, blank=True, verbose_name=_("payer phone"))
    description = models.CharField(max_length=250, blank=True, verbose_name=_("description"))
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    currency = models.CharField(max_length=3, default="SYP", verbose_name=_("currency"))
    gateway = models.CharField(_("gateway"), max_length=20)
    gateway_payment_id = models.CharField(
        max_length=80, blank=True, verbose_name=_("gateway payment id")
    )
    status = models.CharField(
        max_length=12,
        choices=IntentStatus.choices,
        default=IntentStatus.CREATED,
        db_index=True,
        verbose_name=_("status"),
    )
    redirect_url = models.TextField(blank=True, verbose_name=_("redirect URL"))
    return_url = models.TextField(blank=True, verbose_name=_("return URL"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, verbose_name=_("idempotency key")
    )
    expires_at = models.DateTimeField(db_index=True, verbose_name=_("expires at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    receipt = models.OneToOneField(
        Receipt,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_intent",
        verbose_name=_("receipt"),
    )
    # Set when money arrived that cannot pay the application (cancelled meanwhile, paid by
    # another receipt, wrong amount): the receipt is then refunded automatically.
    refund_due = models.CharField(max_length=250, blank=True, verbose_name=_("refund due"))
    error = models.CharField(max_length=250, blank=True, verbose_name=_("error"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_payment_id"],
                condition=~models.Q(gateway_payment_id=""),
                name="one_intent_per_gateway_payment",
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.gateway_payment_id or self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INTENT_STATES

    @property
    def status_label(self) -> str:
        return str(IntentStatus(self.status).label)

    @property
    def label(self) -> str:
        """What was paid, for finance pages: the application's reference or the purpose's
        own description."""
        if self.application_id is not None:
            return str(self.application.reference)  # type: ignore[union-attr]
        return self.description


class GatewayWebhook(BaseModel):
    """Every verified gateway notification, once: the unique (gateway, event id) makes a
    replayed or duplicated webhook a no-op."""

    gateway = models.CharField(max_length=20, verbose_name=_("gateway"))
    event_id = models.CharField(max_length=100, verbose_name=_("event id"))
    kind = models.CharField(max_length=40, verbose_name=_("kind"))
    payment_id = models.CharField(max_length=80, verbose_name=_("payment id"))
    intent = models.ForeignKey(
        PaymentIntent,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhooks",
        verbose_name=_("online payment"),
    )
    outcome = models.CharField(max_length=40, blank=True, verbose_name=_("outcome"))

    class Meta:
        verbose_name = _("gateway webhook")
        verbose_name_plural = _("gateway webhooks")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="one_webhook_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_id} {self.kind}"


class SettlementImport(BaseModel):
    """A gateway's daily settlement file as imported (the latest import of a day counts)."""

    gateway = models.CharField(_("gateway"), max_length=20)
    day = models.DateField(_("day"), db_index=True)
    source = models.CharField(
        max_length=10, verbose_name=_("source")
    )  # "fetched" from the gateway or "uploaded"
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    content = models.TextField(verbose_name=_("content"))
    line_count = models.PositiveIntegerField(default=0, verbose_name=_("line count"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("settlement file")
        verbose_name_plural = _("settlement files")

    def __str__(self) -> str:
        return f"{self.gateway} {self.day}"


class SettlementLine(BaseModel):
    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    settlement = models.ForeignKey(SettlementImport, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    transaction_id = models.CharField(max_length=80)  # the payment's or the refund's id
    payment_id = models.CharField(max_length=80)
    merchant_ref = models.CharField(max_length=80, blank=True)
    amount = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "transaction_id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.transaction_id} {self.amount}"


# ---------------------------------------------------------------- the sandbox gateway's own books
# These rows play the part of the gateway's database: our code never reads them except through
# the gateway interface (`payments.gateways.sandbox.SandboxGateway`).


class SandboxPayment(BaseModel):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the payer")
        SUCCEEDED = "succeeded", _("Paid")
        DECLINED = "declined", _("Declined")
        ABANDONED = "abandoned", _("Abandoned")
        EXPIRED = "expired", _("Expired")

    payment_id = models.CharField(max_length=40, unique=True)
    merchant_ref = models.CharField(max_length=80, db_index=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, default="SYP")
    description = models.CharField(max_length=250, blank=True)
    return_url = models.TextField()
    notify_url = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    expires_at = models.DateTimeField()
    captured_at = models.DateTimeField(null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.payment_id} ({self.state})"


class SandboxRefund(BaseModel):
    refund_id = models.CharField(max_length=40, unique=True)
    payment = models.ForeignKey(SandboxPayment, on_delete=models.PROTECT, related_name="refunds")
    merchant_ref = models.CharField(max_length=80, blank=True)
    amount = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "merchant_ref"],
                condition=~models.Q(merchant_ref=""),
                name="sandbox_one_refund_per_merchant_ref",
            )
        ]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount}"
