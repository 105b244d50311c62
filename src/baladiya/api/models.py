"""API tokens (only their hash is stored) and the Idempotency-Key store."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class ApiToken(BaseModel):
    """A bearer token for the public API. The token itself is shown once, when issued; the
    database keeps its SHA-256 (tokens are 256 random bits, so a fast hash is enough)."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("Staff (username and password)")
        CITIZEN = "citizen", _("Citizen (one-time code)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    key_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("key hash")
    )
    prefix = models.CharField(
        _("first characters"), max_length=12, help_text=_("to recognise a token in lists")
    )
    expires_at = models.DateTimeField(_("expires"), db_index=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_ip = models.CharField(_("issued to address"), max_length=45, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class IdempotencyRecord(BaseModel):
    """One POST made with an `Idempotency-Key`: who sent it, where, a hash of its body and —
    once it succeeded — the response (sealed with a key derived from SECRET_KEY, because a
    token or personal data may be in it). The unique (caller, key) pair makes two concurrent
    copies of a request collide in the database instead of both running."""

    caller = models.CharField(max_length=80)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=400)
    body_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("empty: running"))
    response = models.BinaryField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_caller_key")
        ]
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")

    def __str__(self) -> str:
        return f"{self.caller} {self.method} {self.path} [{self.key}]"
