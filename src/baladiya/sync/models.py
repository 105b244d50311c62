"""Sync between center nodes and the central node (decision 0009).

Center side: `OutboxEvent` (what this node did, in order), `SyncState` (one row: cursor,
last contact). Central side: `CenterNode` (an enrolled center, its key, the sequence applied
through), `EnrolmentCode`, `InboundEvent` (every event applied, once), `CenterAuditEvent`
(each center's audit chain), `CenterCounter`, `CitizenAlias`, `SyncConflict` and `Change`
(the change feed centers pull).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel

# ---------------------------------------------------------------- center side


class OutboxEvent(models.Model):
    """One change this node made to a replicated row, written in the same transaction.

    `seq` is gap-free per node (a counter row, not a DB sequence): central refuses a batch
    that skips a number, so a rolled-back transaction must give its numbers back."""

    seq = models.PositiveBigIntegerField(primary_key=True)
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    model = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8, default="upsert")  # upsert | delete | request
    data = models.JSONField(default=dict)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.op} {self.model}:{self.object_id}"


class SyncState(models.Model):
    """This center node's view of the link (one row, pk=1)."""

    central_url = models.CharField(max_length=200, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    cursor = models.PositiveBigIntegerField(default=0)  # last change id pulled
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive, for the backoff

    def __str__(self) -> str:
        return f"sync state (cursor {self.cursor})"


# ---------------------------------------------------------------- central side


class CenterNode(BaseModel):
    """A center running its own node. `last_seq`: its events applied through this number."""

    center = models.OneToOneField(
        "centers.Center", on_delete=models.PROTECT, related_name="node", verbose_name=_("center")
    )
    key = models.ForeignKey(
        "documents.SigningKey", on_delete=models.PROTECT, related_name="+", verbose_name=_("key")
    )
    enrolled_at = models.DateTimeField(_("enrolled at"))
    valid_until = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason"), max_length=200, blank=True)
    last_seq = models.PositiveBigIntegerField(_("events applied through"), default=0)
    last_push_at = models.DateTimeField(_("last push"), null=True, blank=True)
    last_pull_at = models.DateTimeField(_("last pull"), null=True, blank=True)
    cursor = models.PositiveBigIntegerField(_("change feed cursor"), default=0)

    class Meta:
        verbose_name = _("center node")
        verbose_name_plural = _("center nodes")

    def __str__(self) -> str:
        return str(self.center.code)


class EnrolmentCode(BaseModel):
    """A one-time code for enrolling a center's PC; only its SHA-256 is kept."""

    center = models.ForeignKey("centers.Center", on_delete=models.CASCADE, related_name="+")
    code_sha256 = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return f"enrolment code for {self.center_id}"


class InboundEvent(models.Model):
    """An event a center pushed, applied exactly once (unique event id and (center, seq))."""

    event_id = models.UUIDField(primary_key=True)
    center = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    model = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, default="applied")  # applied | conflict

    class Meta:
        constraints = [models.UniqueConstraint(fields=["center", "seq"], name="inbound_center_seq")]

    def __str__(self) -> str:
        return f"{self.center} #{self.seq} {self.model}:{self.object_id}"


class CenterAuditEvent(models.Model):
    """A center's own audit chain, kept centrally as received (verifiable on its own)."""

    center = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    event_id = models.UUIDField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    center_field = models.CharField(max_length=8, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["center", "seq"]
        constraints = [models.UniqueConstraint(fields=["center", "seq"], name="center_audit_seq")]

    def __str__(self) -> str:
        return f"{self.center} #{self.seq} {self.action}"


class CenterCounter(models.Model):
    """The last value of a center's number series, as pushed (for replacing a lost PC)."""

    center = models.CharField(max_length=8)
    scope = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    year = models.PositiveIntegerField(default=0)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["center", "scope", "kind", "year"], name="center_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.center} {self.scope}/{self.kind}/{self.year}={self.value}"


class CitizenAlias(models.Model):
    """A citizen registered twice offline: the later id, merged into the kept one."""

    alias_id = models.UUIDField(primary_key=True)
    citizen = models.ForeignKey("accounts.Citizen", on_delete=models.CASCADE, related_name="+")
    center = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.alias_id} -> {self.citizen_id}"


class SyncConflict(BaseModel):
    """Something a center pushed that central did not apply as is: a person must look."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    center = models.CharField(_("center"), max_length=8)
    seq = models.PositiveBigIntegerField(_("event"))
    model = models.CharField(_("record type"), max_length=60)
    object_id = models.CharField(_("record"), max_length=64)
    reason = models.CharField(_("reason"), max_length=300)
    pushed = models.JSONField(_("what the center sent"), default=dict)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="open")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("sync conflict")
        verbose_name_plural = _("sync conflicts")

    def __str__(self) -> str:
        return f"{self.center} #{self.seq} {self.model}:{self.object_id}"


class Change(models.Model):
    """The change feed: a replicated row changed on central. `id` is the cursor.

    Taken from a locked counter row, not a sequence: a sequence hands ids out in start order,
    so a later id could commit first and a center reading past it would never see the
    earlier one; under the lock ids commit in order, without gaps."""

    id = models.PositiveBigIntegerField(primary_key=True)
    model = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    op = models.CharField(max_length=8, default="upsert")  # upsert | delete
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["model", "object_id"], name="change_row")]

    def __str__(self) -> str:
        return f"#{self.id} {self.op} {self.model}:{self.object_id}"
