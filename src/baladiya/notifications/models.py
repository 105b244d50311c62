"""The outbox: every message to the outside world (SMS, outgoing webhooks) is a row written in
the same transaction as the business change, then delivered by the pump with retries.

So a failed or slow SMS gateway never fails or slows an application, and a message is never
lost: it stays `pending` until delivered or, after too many attempts, `dead` for a human.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class OutboxMessage(BaseModel):
    class Kind(models.TextChoices):
        SMS = "sms", _("SMS")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DEAD = "dead", _("Gave up")

    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    recipient = models.CharField(_("recipient"), max_length=500)  # phone number or URL
    body = models.TextField(verbose_name=_("text"))
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    # Same key twice = the same message: queueing it again changes nothing.
    dedupe_key = models.CharField(
        max_length=200, unique=True, null=True, blank=True, verbose_name=_("deduplication key")
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(db_index=True, verbose_name=_("next attempt at"))
    last_error = models.CharField(max_length=500, blank=True, verbose_name=_("last error"))
    provider_ref = models.CharField(
        max_length=100, blank=True, verbose_name=_("provider reference")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.state})"


class SandboxSms(BaseModel):
    """What the sandbox SMS gateway 'delivered': the developer's and the tests' phone."""

    phone = models.CharField(max_length=16, db_index=True)
    text = models.TextField()
    provider_ref = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.phone}: {self.text[:40]}"
