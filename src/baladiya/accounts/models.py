from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.core.ids import uuid7
from baladiya.core.models import BaseModel
from baladiya.core.text import normalize_arabic


class User(AbstractUser):
    """A staff member. Roles are groups named after `roles.ALL_ROLES`."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    center = models.ForeignKey(
        "centers.Center",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("center"),
        help_text=_("Required for clerks and cashiers; limits a supervisor to one center."),
    )
    agency = models.ForeignKey(
        "catalog.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officers",
        verbose_name=_("agency"),
        help_text=_("Limits a directorate officer to one agency's services."),
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    # Citizen (portal) accounts: username = mobile in E.164, unusable password, no role; the
    # citizen record is linked once the profile is complete (see accounts.services).
    citizen = models.OneToOneField(
        "accounts.Citizen",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account",
        verbose_name=_("citizen record"),
        help_text=_("Set for citizen portal accounts once their profile is complete."),
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def role_codes(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_role_codes", None)
        if cached is None:
            if not self.is_active:
                cached = frozenset()
            else:
                names = set(self.groups.values_list("name", flat=True))
                if self.is_superuser:
                    names.add(roles.ADMIN)
                cached = frozenset(names & set(roles.ALL_ROLES))
            self._role_codes = cached
        return cached

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes() & set(codes))

    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class Citizen(BaseModel):
    """A person the council serves, found by national number or by (normalized) name."""

    national_number = models.CharField(_("national number"), max_length=11, unique=True)
    first_name = models.CharField(_("first name"), max_length=60)
    father_name = models.CharField(_("father's name"), max_length=60, blank=True)
    last_name = models.CharField(_("family name"), max_length=60)
    mother_name = models.CharField(_("mother's name"), max_length=120, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    phone = models.CharField(_("mobile"), max_length=16, blank=True)
    # Searched for words anywhere in it (`contains`, LIKE '%word%'): no B-tree helps that,
    # so it has none; an index here cost every imported citizen two (decision 0010).
    name_normalized = models.CharField(
        max_length=320, editable=False, verbose_name=_("normalized name")
    )

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.father_name, self.last_name) if p)

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_normalized = normalize_arabic(self.full_name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class LoginAttempt(models.Model):
    """Failed logins per username and per address, for the rate limit (shared by all
    worker processes, so it lives in the database, not in memory)."""

    username = models.CharField(max_length=150, db_index=True, verbose_name=_("username"))
    ip = models.CharField(max_length=45, db_index=True, verbose_name=_("IP address"))
    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("time"))
    succeeded = models.BooleanField(default=False, verbose_name=_("succeeded"))

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")

    def __str__(self) -> str:
        return f"{self.username}@{self.ip} {self.at:%Y-%m-%d %H:%M}"


class OtpCode(BaseModel):
    """A one-time login code sent by SMS. Only an HMAC of the code is stored (see `otp.py`)."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        USED = "used", _("Used")
        SUPERSEDED = "superseded", _("Replaced by a newer code")
        EXHAUSTED = "exhausted", _("Too many wrong attempts")

    phone = models.CharField(_("mobile"), max_length=16)
    ip = models.CharField(max_length=45, verbose_name=_("IP address"))
    code_hash = models.CharField(max_length=64, verbose_name=_("code hash"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    state = models.CharField(
        max_length=12, choices=State.choices, default=State.ACTIVE, verbose_name=_("state")
    )
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used at"))

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [
            models.Index(fields=["phone", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
            models.Index(fields=["phone", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.state} {self.created_at:%Y-%m-%d %H:%M}"


class RateHit(models.Model):
    """One counted event for a database-backed rate limit (shared by every worker process):
    a wrong one-time code per address, a failed status lookup per address or reference..."""

    scope = models.CharField(max_length=20)
    key = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} {self.at:%Y-%m-%d %H:%M}"
