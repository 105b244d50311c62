"""Water services on behalf of the city's water establishment (issue 5): subscriptions
(a meter at an address, its subscriber and category), dated tariffs with consumption slabs,
and bills per billing cycle.

Money in piastres (core.money); consumption in whole cubic metres, as meters are read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class Category(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    GOVERNMENT = "government", _("Government")
    COMMERCIAL = "commercial", _("Commercial")
    INDUSTRIAL = "industrial", _("Industrial")
    TOURIST = "tourist", _("Tourist")


class MeterStatus(models.TextChoices):
    WORKING = "working", _("Working")
    BROKEN = "broken", _("Broken")
    REPLACED = "replaced", _("Replaced")
    REMOVED = "removed", _("Removed")


class Subscription(BaseModel):
    """A water subscription: one meter at one address, with its current subscriber. Owners
    and meters change over time; their history is kept (`OwnerPeriod`, `MeterChange`)."""

    meter_number = models.CharField(_("meter number"), max_length=30, unique=True)
    subscriber = models.ForeignKey(
        "accounts.Citizen",
        on_delete=models.PROTECT,
        related_name="water_subscriptions",
        verbose_name=_("subscriber"),
    )
    address = models.CharField(_("address"), max_length=250)
    neighbourhood = models.ForeignKey(
        "centers.Neighbourhood",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("neighbourhood"),
    )
    category = models.CharField(_("usage category"), max_length=12, choices=Category.choices)
    meter_status = models.CharField(
        _("meter status"), max_length=10, choices=MeterStatus.choices, default=MeterStatus.WORKING
    )
    active_since = models.DateField(_("active since"))
    # Set on every change (imports write it themselves: bulk writes skip auto_now); an
    # import that finds nothing new leaves it alone.
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    # No index on the creation time: nothing lists subscriptions by it, and imports write
    # 100,000 at a time (decision 0010).
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["meter_number"]
        verbose_name = _("water subscription")
        verbose_name_plural = _("water subscriptions")

    def __str__(self) -> str:
        return self.meter_number


class OwnerPeriod(BaseModel):
    """Who held the subscription when: a transfer closes one period and opens the next."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="owners")
    citizen = models.ForeignKey("accounts.Citizen", on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)  # unindexed, as a subscription's

    class Meta:
        ordering = ["valid_from"]

    def __str__(self) -> str:
        return f"{self.subscription_id}: {self.citizen_id} from {self.valid_from}"


class MeterChange(BaseModel):
    """A meter replaced at a subscription (the old number is kept)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="meter_changes"
    )
    old_number = models.CharField(max_length=30)
    new_number = models.CharField(max_length=30)
    changed_on = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.old_number} -> {self.new_number}"


class Tariff(BaseModel):
    """The price of water for one usage category from a date, per billing cycle: a fixed
    charge plus consumption slabs. Household slabs price the **whole** quantity at the rate of
    the slab it falls in (DESIGN §7), not each part at its own rate."""

    category = models.CharField(_("usage category"), max_length=12, choices=Category.choices)
    valid_from = models.DateField(_("valid from"))
    fixed_charge = models.PositiveBigIntegerField(_("fixed charge per cycle (piastres)"), default=0)
    note = models.CharField(_("note"), max_length=250, blank=True)

    class Meta:
        ordering = ["category", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["category", "valid_from"], name="tariff_per_day")
        ]
        verbose_name = _("water tariff")
        verbose_name_plural = _("water tariffs")

    def __str__(self) -> str:
        return f"{self.category} from {self.valid_from}"


class Slab(models.Model):
    """From `from_m3` to `to_m3` (inclusive; open-ended when empty), `price_per_m3` piastres."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="slabs")
    from_m3 = models.PositiveIntegerField(_("from (m³)"))
    to_m3 = models.PositiveIntegerField(_("to (m³)"), null=True, blank=True)
    price_per_m3 = models.PositiveBigIntegerField(_("price per m³ (piastres)"))

    class Meta:
        ordering = ["tariff", "from_m3"]

    def __str__(self) -> str:
        return f"{self.from_m3}-{self.to_m3 or '∞'}: {self.price_per_m3}"

    def clean(self) -> None:
        if self.to_m3 is not None and self.to_m3 < self.from_m3:
            raise ValidationError({"to_m3": _("The slab ends before it starts.")})


class Bill(BaseModel):
    """One billing cycle of one subscription, from two readings (the second may be an
    estimate, flagged). The amount is computed once, with the tariff in force at the cycle's
    end, and kept: a later tariff never changes an issued bill."""

    class State(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="bills", verbose_name=_("subscription")
    )
    cycle = models.CharField(_("billing cycle"), max_length=10)  # e.g. "2026-03" (2-month cycle 3)
    period_end = models.DateField(_("end of the cycle"))
    previous_reading = models.PositiveIntegerField(_("previous reading (m³)"))
    current_reading = models.PositiveIntegerField(_("current reading (m³)"))
    estimated = models.BooleanField(_("estimated reading"), default=False)
    consumption = models.PositiveIntegerField(_("consumption (m³)"))
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    due_date = models.DateField(_("due date"))
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.UNPAID, verbose_name=_("state")
    )
    external_ref = models.CharField(
        max_length=60, blank=True, verbose_name=_("external reference")
    )  # the establishment's bill id

    class Meta:
        ordering = ["subscription", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "cycle"], name="bill_per_cycle")
        ]
        indexes = [models.Index(fields=["subscription", "state", "period_end"])]
        verbose_name = _("water bill")
        verbose_name_plural = _("water bills")

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.cycle}"


class BillPayment(BaseModel):
    """A bill paid by a receipt. Not unique per bill on purpose: the same bill paid at two
    offline centers is two real payments; the second becomes an overpayment credit flagged
    for refund (decision 0009, rule 5), never dropped."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payments")
    receipt = models.ForeignKey(
        "payments.Receipt", on_delete=models.PROTECT, related_name="bill_payments"
    )
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    overpayment = models.BooleanField(_("paid twice: refund due"), default=False)

    def __str__(self) -> str:
        return f"{self.bill_id} by {self.receipt_id}"


# ---------------------------------------------------------------- exchange (water.importing)


class ImportBatch(BaseModel):
    """One file from the water establishment, imported once: what it held and what became
    of it. Bad rows are kept as `ImportIssue`s (the downloadable error report)."""

    class Kind(models.TextChoices):
        SUBSCRIBERS = "subscribers", _("Subscribers")
        READINGS = "readings", _("Meter readings")
        BILLS = "bills", _("Bills")

    class State(models.TextChoices):
        RUNNING = "running", _("Running or interrupted")
        DONE = "done", _("Imported")
        IDENTICAL = "identical", _("Identical to an earlier file: nothing done")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded")
        CLI = "cli", _("Command line")
        ESTABLISHMENT = "establishment", _("Fetched from the establishment")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=14, choices=Source.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True, verbose_name=_("SHA-256"))
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    actor_name = models.CharField(max_length=150, blank=True, verbose_name=_("actor"))
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.RUNNING, verbose_name=_("state")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("refused"), default=0)
    same_as = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("same file as"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("water import")
        verbose_name_plural = _("water imports")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.created_at:%Y-%m-%d %H:%M}"


class ImportIssue(models.Model):
    """A refused row of an import: where (the file's row and column header), why (a code
    and its parameters, rendered in the reader's language), and the value as found."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=60, blank=True)
    code = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    value = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["batch", "row", "id"]

    def __str__(self) -> str:
        return f"{self.batch_id} row {self.row}: {self.code}"


class CollectionExport(BaseModel):
    """A day's collections file sent to the establishment, with its acknowledgement."""

    day = models.DateField(_("day"), db_index=True)
    file_name = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    lines = models.PositiveIntegerField(default=0)
    amount = models.PositiveBigIntegerField(_("amount (piastres)"), default=0)
    overpayment = models.PositiveBigIntegerField(default=0)
    establishment = models.CharField(max_length=40)
    acknowledgement = models.CharField(max_length=80)
    actor_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.day} {self.acknowledgement}"
