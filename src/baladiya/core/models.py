from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.ids import uuid7


class BaseModel(models.Model):
    """UUIDv7 primary key and creation time, shared by every domain record."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True


class Counter(models.Model):
    """A gap-free number series: one row per (scope, kind, year), updated in the same
    transaction as the record it numbers (never a DB sequence: those skip on rollback)."""

    scope = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    year = models.PositiveIntegerField(default=0)
    value = models.PositiveBigIntegerField(default=0)
    # Only the audit chain's head uses it: the hash of event `value`, read with the head's
    # lock, so appending an event does not have to look the previous row up.
    last_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "kind", "year"], name="counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.kind}/{self.year}={self.value}"


class AuditEvent(models.Model):
    """One append-only, hash-chained entry per state change. `hash` covers `prev_hash`,
    so a changed, deleted or reordered row breaks the chain (`baladiya audit verify`)."""

    seq = models.PositiveBigIntegerField(unique=True)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    center = models.CharField(max_length=8, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"
