"""The postal service as the rest of the code sees it: one small interface, one adapter per
carrier (Syrian Post, a courier), chosen by the `POSTAL_SERVICE` setting (an import path).

A carrier
- registers a parcel and answers with its tracking number (`dispatch`); registering the same
  client reference twice returns the same tracking number (a retried request never makes two
  parcels);
- reports what happens to it later, as events pushed to our callback (signed: each carrier
  signs its own way, so checking the signature and reading the body is the adapter's job,
  `parse_callback`), and on request (`track`, a fallback when callbacks were lost).

Events may arrive late, twice, or out of order: `services.handle_postal_event` copes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

DEFAULT_POSTAL_SERVICE = "baladiya.delivery.post.sandbox.SandboxPostalService"


class EventKind(models.TextChoices):
    """What a carrier reports, in our words (adapters map their own codes onto these)."""

    ACCEPTED = "accepted", _("Accepted by the post office")
    IN_TRANSIT = "in_transit", _("In transit")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERY_FAILED = "delivery_failed", _("Delivery attempt failed")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned to sender")


# Events that end a shipment: the first one received wins, later ones never undo it.
FINAL_KINDS = frozenset({EventKind.DELIVERED, EventKind.RETURNED})


@dataclass(frozen=True)
class Parcel:
    """What the post office needs to carry one document."""

    reference: str  # our application reference: the carrier's client reference (idempotent)
    recipient_name: str
    phone: str
    address_line: str
    neighbourhood: str
    sender: str  # the return address printed on the envelope
    document_number: str = ""


@dataclass(frozen=True)
class PostalEvent:
    """One thing that happened to a parcel, as the carrier reported it."""

    event_id: str  # the carrier's id for this event: the same id twice is the same event
    tracking_number: str
    kind: str  # an EventKind value
    occurred_at: dt.datetime  # aware; the carrier's clock
    location: str = ""
    detail: str = ""


class PostalError(Exception):
    """The carrier refused the request or could not be reached (nothing was registered)."""


class BadCallback(Exception):
    """A callback that must not be believed: bad or missing signature, stale, malformed."""

    def __init__(self, message: str, *, code: str = "bad_callback", status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class PostalService(Protocol):
    code: str  # short name stored on each shipment ("sandbox", "syrian-post")

    def dispatch(self, parcel: Parcel) -> str:
        """Register the parcel; return its tracking number. Raises `PostalError`."""
        ...

    def track(self, tracking_number: str) -> list[PostalEvent]:
        """Every event the carrier knows for this parcel, oldest first. Raises `PostalError`."""
        ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> PostalEvent:
        """Check the callback's signature and read its event. Raises `BadCallback`."""
        ...


def postal_service() -> PostalService:
    """The configured carrier adapter (`settings.POSTAL_SERVICE`)."""
    path = getattr(settings, "POSTAL_SERVICE", "")
    if not path:  # production with no carrier named: refuse clearly, never fake tracking
        raise PostalError("no postal service is configured (BALADIYA_POSTAL_SERVICE)")
    service: PostalService = import_string(path)()
    return service
