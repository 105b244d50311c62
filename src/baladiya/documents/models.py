from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class SigningKey(BaseModel):
    """An Ed25519 key. The public half lives here (and in keys.json); the private half in
    `BALADIYA_KEY_DIR`, readable only by the node. Retired keys still verify old documents."""

    key_id = models.CharField(max_length=40, unique=True)
    node = models.CharField(max_length=16, default="central")
    public_key = models.CharField(max_length=64, help_text=_("raw public key, base64url"))
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True, help_text=_("end of signing use"))
    active = models.BooleanField(default=True, help_text=_("used to sign new documents"))
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return self.key_id


class IssuedDocument(BaseModel):
    class State(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    number = models.CharField(_("document number"), max_length=24, unique=True)
    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="document"
    )
    center = models.ForeignKey("centers.Center", on_delete=models.PROTECT, related_name="+")
    title_ar = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    holder_name = models.CharField(max_length=200)
    holder_national_number = models.CharField(max_length=11)
    content = models.JSONField(default=dict)
    issued_at = models.DateTimeField(db_index=True)
    valid_until = models.DateField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="documents")
    payload = models.TextField(help_text=_("the signed QR payload"))
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number
