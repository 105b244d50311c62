from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.ids import uuid7


class BaseModel(models.Model):
    """UUIDv7 primary key and creation time, shared by every domain record."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        abstract = True


class Counter(models.Model):
    """A gap-free number series: one row per (scope, kind, year), updated in the same
    transaction as the record it numbers (never a DB sequence: those skip on rollback)."""

    scope = models.CharField(max_length=16, verbose_name=_("scope"))
    kind = models.CharField(max_length=16, verbose_name=_("kind"))
    year = models.PositiveIntegerField(default=0, verbose_name=_("year"))
    value = models.PositiveBigIntegerField(default=0, verbose_name=_("value"))
    # Only the audit chain's head uses it: the hash of event `value`, read with the head's
    # lock, so appending an event does not have to look the previous row up.
    last_hash = models.CharField(max_length=64, blank=True, default="", verbose_name=_("last hash"))

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        constraints = [
            models.UniqueConstraint(fields=["scope", "kind", "year"], name="counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}/{self.kind}/{self.year}={self.value}"


class AuditEvent(models.Model):
    """One append-only, hash-chained entry per state change. `hash` covers `prev_hash`,
    so a changed, deleted or reordered row breaks the chain (`baladiya audit verify`)."""

    seq = models.PositiveBigIntegerField(unique=True, verbose_name=_("sequence number"))
    event_id = models.UUIDField(
        default=uuid.uuid4, editable=False, unique=True, verbose_name=_("event id")
    )
    at = models.DateTimeField(db_index=True, verbose_name=_("time"))
    actor = models.CharField(max_length=150, blank=True, verbose_name=_("actor"))
    action = models.CharField(max_length=80, db_index=True, verbose_name=_("action"))
    object_type = models.CharField(max_length=60, blank=True, verbose_name=_("object type"))
    object_id = models.CharField(
        max_length=64, blank=True, db_index=True, verbose_name=_("object id")
    )
    center = models.CharField(max_length=8, blank=True, verbose_name=_("center"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    prev_hash = models.CharField(max_length=64, verbose_name=_("previous hash"))
    hash = models.CharField(max_length=64, verbose_name=_("hash"))

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class ChainCheck(BaseModel):
    """One walk of the audit chains: this node's own and, on the central node, each center
    node's as received. Kept, so an auditor sees when the log was last proved intact, what
    was found, and can ask for a walk now (the background pump takes it within a minute)."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    state = models.CharField(
        max_length=10, choices=State.choices, default=State.REQUESTED, verbose_name=_("state")
    )
    requested_by = models.CharField(
        max_length=150, blank=True, verbose_name=_("requested by")
    )  # empty: the daily check
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    chains = models.PositiveIntegerField(default=0, verbose_name=_("chains"))
    events = models.PositiveBigIntegerField(default=0, verbose_name=_("events"))
    # {"central": ["seq 12: hash mismatch", ...], "C03": [...]}: only chains with problems
    problems = models.JSONField(default=dict, blank=True, verbose_name=_("problems"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("audit chain check")
        verbose_name_plural = _("audit chain checks")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.state}"

    @property
    def intact(self) -> bool:
        return self.state == self.State.DONE and not self.problems
