"""Shipments by post (our side) and the sandbox post office's own register.

Imported by `delivery.models`, so these belong to the `delivery` app (and its migrations).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel
from baladiya.delivery.post.interface import EventKind


class Shipment(BaseModel):
    """One document handed to the post: its tracking number and what became of it."""

    class State(models.TextChoices):
        DISPATCHED = "dispatched", _("With the post")
        DELIVERED = "delivered", _("Delivered")
        RETURNED = "returned", _("Returned to sender")

    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="shipment",
        verbose_name=_("application"),
    )
    carrier = models.CharField(_("postal service"), max_length=20)
    tracking_number = models.CharField(_("tracking number"), max_length=40, unique=True)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.DISPATCHED, db_index=True
    )
    center = models.ForeignKey(
        "centers.Center",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The issuing center (the return address)"),
        verbose_name=_("center"),
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dispatched by"),
    )
    dispatch_date = models.DateField(_("dispatch date"), db_index=True)
    recipient_name = models.CharField(_("recipient"), max_length=200)
    address = models.JSONField(_("address"), default=dict)
    last_event = models.CharField(
        _("last postal event"), max_length=20, choices=EventKind.choices, blank=True
    )
    last_event_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last event at"))
    closed_at = models.DateTimeField(_("delivered or returned at"), null=True, blank=True)
    returned_to = models.ForeignKey(
        "centers.Center",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("returned to"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def is_open(self) -> bool:
        return self.state == self.State.DISPATCHED


class ShipmentEvent(BaseModel):
    """Every event the carrier reported, kept as received (also the ones that changed nothing:
    a replay, a late `delivered` after a return) so the history explains every decision."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        RECORDED = "recorded", _("Recorded")
        IGNORED = "ignored", _("Ignored (shipment already closed)")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)

    class Meta:
        ordering = ["occurred_at", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "event_id"], name="shipment_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.kind} {self.occurred_at:%Y-%m-%d %H:%M}"


class SandboxParcel(BaseModel):
    """The sandbox post office's register: what the carrier knows, apart from our tables."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DELIVERED = "delivered", _("Delivered")
        RETURNED = "returned", _("Returned to sender")

    tracking_number = models.CharField(max_length=20, unique=True)
    client_reference = models.CharField(max_length=40, unique=True)
    recipient_name = models.CharField(max_length=200)
    address = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    events = models.JSONField(default=list)  # [{id, kind, at, location, detail}], oldest first

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tracking_number} ({self.state})"
