from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class SigningKey(BaseModel):
    """An Ed25519 key. The public half lives here (and in keys.json); the private half in
    `BALADIYA_KEY_DIR`, readable only by the node. Retired keys still verify old documents."""

    key_id = models.CharField(max_length=40, unique=True, verbose_name=_("key id"))
    node = models.CharField(max_length=16, default="central", verbose_name=_("node"))
    public_key = models.CharField(
        max_length=64, help_text=_("raw public key, base64url"), verbose_name=_("public key")
    )
    valid_from = models.DateTimeField(verbose_name=_("valid from"))
    valid_to = models.DateTimeField(
        null=True, blank=True, help_text=_("end of signing use"), verbose_name=_("valid to")
    )
    active = models.BooleanField(
        default=True, help_text=_("used to sign new documents"), verbose_name=_("active")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return self.key_id


class IssuedDocument(BaseModel):
    class State(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("document number"), max_length=24, unique=True)
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="document",
        verbose_name=_("application"),
    )
    center = models.ForeignKey(
        "centers.Center", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    title_ar = models.CharField(max_length=200, verbose_name=_("title (Arabic)"))
    title_en = models.CharField(max_length=200, verbose_name=_("title (English)"))
    holder_name = models.CharField(max_length=200, verbose_name=_("holder name"))
    holder_national_number = models.CharField(
        max_length=11, verbose_name=_("holder national number")
    )
    content = models.JSONField(default=dict, verbose_name=_("content"))
    issued_at = models.DateTimeField(db_index=True, verbose_name=_("issued at"))
    valid_until = models.DateField(verbose_name=_("valid until"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    key = models.ForeignKey(
        SigningKey,
        on_delete=models.PROTECT,
        related_name="documents",
        verbose_name=_("signing key"),
    )
    payload = models.TextField(help_text=_("the signed QR payload"), verbose_name=_("QR payload"))
    pdf = models.BinaryField(verbose_name=_("PDF"))
    pdf_sha256 = models.CharField(max_length=64, verbose_name=_("PDF SHA-256"))
    state = models.CharField(
        max_length=8, choices=State.choices, default=State.VALID, verbose_name=_("state")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    revoked_reason = models.CharField(
        max_length=250, blank=True, verbose_name=_("revocation reason")
    )

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number
