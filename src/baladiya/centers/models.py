from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel
from baladiya.core.text import normalize_arabic


class Neighbourhood(BaseModel):
    name_ar = models.CharField(_("name (Arabic)"), max_length=120, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_normalized = models.CharField(
        max_length=120, editable=False, db_index=True, verbose_name=_("normalized name")
    )

    class Meta:
        ordering = ["name_ar"]
        verbose_name = _("neighbourhood")
        verbose_name_plural = _("neighbourhoods")

    def __str__(self) -> str:
        return self.name_ar

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_normalized = normalize_arabic(self.name_ar)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Center(BaseModel):
    class Kind(models.TextChoices):
        NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood center")
        INSTITUTIONAL = "institutional", _("Institutional center")
        ELECTRONIC = "electronic", _("Electronic center")

    class Power(models.TextChoices):
        GRID = "grid", _("Grid")
        SOLAR = "solar", _("Solar")

    code = models.CharField(_("code"), max_length=8, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    power_source = models.CharField(
        _("power source"), max_length=8, choices=Power.choices, default=Power.GRID
    )
    solar_kw = models.DecimalField(
        _("solar capacity (kW)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    neighbourhoods = models.ManyToManyField(
        Neighbourhood, blank=True, related_name="centers", verbose_name=_("neighbourhoods served")
    )
    accepts_pickup = models.BooleanField(_("documents can be picked up here"), default=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service center")
        verbose_name_plural = _("service centers")

    def __str__(self) -> str:
        return f"{self.code} {self.name_ar}"

    def display_name(self, language: str = "ar") -> str:
        return self.name_en if language == "en" else self.name_ar


# ---------------------------------------------------------------- center status (issue 4)


class PowerSource(models.TextChoices):
    """What a center node runs on right now, as its heartbeat reports it (not the installed
    `Center.power_source`: a solar center runs on its battery at night)."""

    GRID = "grid", _("Grid")
    SOLAR = "solar", _("Solar")
    GENERATOR = "generator", _("Generator")
    BATTERY = "battery", _("Battery")


class CenterStatus(BaseModel):
    """The last word from a center's node: one row per center, created by its first heartbeat
    (only centers that have ever reported are watched by `status.detect_outages`).

    `first_heartbeat_at` and `last_heartbeat_at` are the central node's clock when a heartbeat
    arrived (liveness and uptime are judged by it; no uptime is claimed before the first);
    `reported_at` is the node's own clock, shown but never trusted (a small PC
    whose clock battery died after a power cut may think it is 2000). `online` is derived
    (no open outage) but stored, so the status page lists the network in one query.
    """

    center = models.OneToOneField(
        Center, on_delete=models.CASCADE, related_name="live_status", verbose_name=_("center")
    )
    first_heartbeat_at = models.DateTimeField(_("first heartbeat"))  # watched since
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), db_index=True)
    reported_at = models.DateTimeField(_("node clock"))
    power_source = models.CharField(
        _("power source now"), max_length=10, choices=PowerSource.choices
    )
    outbox_backlog = models.PositiveIntegerField(_("outbox backlog"), default=0)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    version = models.CharField(_("version"), max_length=40, blank=True)
    online = models.BooleanField(_("online"), default=True)

    class Meta:
        verbose_name = _("center status")
        verbose_name_plural = _("center statuses")

    def __str__(self) -> str:
        return f"{self.center_id} {'online' if self.online else 'offline'}"


class Heartbeat(BaseModel):
    """One heartbeat as received, kept `status.HEARTBEAT_KEEP_DAYS` for the charts."""

    center = models.ForeignKey(
        Center, on_delete=models.CASCADE, related_name="heartbeats", verbose_name=_("center")
    )
    received_at = models.DateTimeField(_("received at"), db_index=True)
    power_source = models.CharField(_("power source"), max_length=10, choices=PowerSource.choices)
    outbox_backlog = models.PositiveIntegerField(_("outbox backlog"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        indexes = [models.Index(fields=["center", "received_at"])]

    def __str__(self) -> str:
        return f"{self.center_id} {self.received_at:%Y-%m-%d %H:%M}"


class Outage(BaseModel):
    """A silence of a center's node: from its last heartbeat to the next one (open meanwhile).

    At most one open outage per center (a partial unique constraint: two pumps running the
    watch job at once cannot open two).
    """

    class Cause(models.TextChoices):
        POWER = "power", _("Power cut")
        NETWORK = "network", _("Network")
        UNKNOWN = "unknown", _("Unknown")
        MAINTENANCE = "maintenance", _("Maintenance")

    center = models.ForeignKey(
        Center, on_delete=models.CASCADE, related_name="outages", verbose_name=_("center")
    )
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    cause = models.CharField(
        _("cause"), max_length=12, choices=Cause.choices, default=Cause.UNKNOWN
    )
    alerted_at = models.DateTimeField(_("alert sent at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        constraints = [
            models.UniqueConstraint(
                fields=["center"],
                condition=models.Q(ended_at__isnull=True),
                name="centers_one_open_outage",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="centers_outage_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.center_id} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class SupportTicket(BaseModel):
    """A center asks the informatics directorate for help (printer, link, power, software).

    States and who moves them: `tickets.TRANSITIONS`.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    center = models.ForeignKey(
        Center, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("center")
    )
    opened_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    updated_at = models.DateTimeField(_("last activity"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")

    def __str__(self) -> str:
        return f"{self.center_id} {self.subject}"


class TicketReply(BaseModel):
    ticket = models.ForeignKey(
        SupportTicket, on_delete=models.CASCADE, related_name="replies", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    body = models.TextField(_("message"))
    from_directorate = models.BooleanField(_("from the directorate"), default=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket reply")
        verbose_name_plural = _("ticket replies")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.created_at:%Y-%m-%d %H:%M}"
