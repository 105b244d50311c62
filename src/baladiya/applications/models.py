from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.applications.workflow import Status
from baladiya.catalog.models import DeliveryMode
from baladiya.core.models import BaseModel


class Channel(models.TextChoices):
    COUNTER = "counter", _("At a center counter")
    ONLINE = "online", _("Electronic center")


class Application(BaseModel):
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    service = models.ForeignKey(
        "catalog.Service",
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("service"),
    )
    applicant = models.ForeignKey(
        "accounts.Citizen",
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("applicant"),
    )
    center = models.ForeignKey(
        "centers.Center",
        on_delete=models.PROTECT,
        related_name="applications",
        help_text=_("Where the application was submitted"),
        verbose_name=_("center"),
    )
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.COUNTER, verbose_name=_("channel")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    field_values = models.JSONField(default=dict, blank=True, verbose_name=_("field values"))
    fee_amount = models.PositiveBigIntegerField(_("fee (piastres)"))
    sla_due = models.DateField(_("due"), db_index=True)
    delivery_mode = models.CharField(
        max_length=10,
        choices=DeliveryMode.choices,
        default=DeliveryMode.PICKUP,
        verbose_name=_("delivery mode"),
    )
    pickup_center = models.ForeignKey(
        "centers.Center",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pickups",
        verbose_name=_("pickup center"),
    )
    delivery_address = models.JSONField(
        default=dict, blank=True, verbose_name=_("delivery address")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    note = models.TextField(_("note"), blank=True)
    idempotency_key = models.CharField(
        max_length=80, null=True, blank=True, unique=True, verbose_name=_("idempotency key")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [
            models.Index(fields=["center", "status"]),
            models.Index(fields=["pickup_center", "status"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)


class ApplicationEvent(BaseModel):
    """Full history: every transition with its actor and note."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class Attachment(BaseModel):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    code = models.SlugField(max_length=40)
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)


class InspectionVisit(BaseModel):
    """A field visit an application needs before its approval (a new water meter, later any
    service that registers hooks with `needs_inspection`): scheduled with a date and an
    inspector, then its result recorded once. The latest visit of an application decides;
    earlier ones stay for the record. Written only by `applications.inspections`."""

    class Result(models.TextChoices):
        PENDING = "pending", _("Scheduled")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="inspections"
    )
    scheduled_for = models.DateField(_("visit date"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspector (staff)"),
    )
    inspector_name = models.CharField(_("inspector"), max_length=150)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(
        _("result"), max_length=10, choices=Result.choices, default=Result.PENDING
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set when the visit installs or confirms a meter (water); unique among subscriptions,
    # which `water.meters` checks (another service leaves it empty).
    meter_number = models.CharField(_("meter number"), max_length=30, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("field inspection")
        verbose_name_plural = _("field inspections")
        constraints = [
            # Never two visits waiting at once for one application (two clerks, a double click).
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(result="pending"),
                name="one_pending_inspection",
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.scheduled_for} {self.result}"
