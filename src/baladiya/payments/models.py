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

    center = models.ForeignKey("centers.Center", on_delete=models.PROTECT, related_name="sessions")
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cashier_sessions"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    opened_at = models.DateTimeField()
    business_date = models.DateField(
        _("business day"),
        db_index=True,
        help_text=_("The day (Asia/Damascus) the drawer was opened; all its money counts there."),
    )
    opening_float = models.PositiveBigIntegerField(_("opening float (piastres)"))
    closed_at = models.DateTimeField(null=True, blank=True)
    counted_cash = models.PositiveBigIntegerField(
        _("cash counted (piastres)"), null=True, blank=True
    )
    expected_cash = models.BigIntegerField(null=True, blank=True)
    over_short = models.BigIntegerField(
        _("over (+) / short (-)"), null=True, blank=True, help_text=_("counted − expected")
    )

    class Meta:
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
    center = models.ForeignKey("centers.Center", on_delete=models.PROTECT, related_name="receipts")
    application = models.ForeignKey(
        "applications.Application",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    session = models.ForeignKey(
        CashierSession, null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    payer_name = models.CharField(max_length=200)
    description = models.CharField(max_length=250)
    issued_at = models.DateTimeField(db_index=True)
    business_date = models.DateField(db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external_ref = models.CharField(max_length=80, blank=True)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)

    class Meta:
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
    receipt = models.ForeignKey(Receipt, on_delete=models.PROTECT, related_name="refunds")
    center = models.ForeignKey("centers.Center", on_delete=models.PROTECT, related_name="refunds")
    session = models.ForeignKey(
        CashierSession, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    reason = models.CharField(_("reason"), max_length=250)
    issued_at = models.DateTimeField(db_index=True)
    business_date = models.DateField(db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("Refunds are immutable.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
