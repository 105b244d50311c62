"""The sandbox post office: real-looking tracking numbers, idempotent registration, and the
developers' ways to move parcels on (page, management command)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.delivery.models import SandboxParcel
from baladiya.delivery.post.interface import Parcel, postal_service
from baladiya.delivery.post.sandbox import (
    SandboxPostalService,
    is_tracking_number,
    s10_check_digit,
    tracking_number,
)
from baladiya.delivery.post.services import dispatch
from baladiya.delivery.tests.conftest import client_for
from baladiya.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_s10_check_digits() -> None:
    assert s10_check_digit("47312482") == 9  # the UPU S10 standard's example
    assert s10_check_digit("12345678") == 5
    assert tracking_number(1) == "RR000000014SY"
    assert is_tracking_number("RA473124829GB")
    assert is_tracking_number("rr000000014sy")
    assert not is_tracking_number("RR000000015SY")  # wrong check digit
    assert not is_tracking_number("RR00000001SY")


def test_registering_the_same_reference_twice_gives_the_same_number() -> None:
    post = postal_service()
    assert isinstance(post, SandboxPostalService)
    parcel = Parcel("C00-26-000001", "أحمد", "+963944123456", "شارع 1", "الوعر", "المجلس")
    first = post.dispatch(parcel)
    assert post.dispatch(parcel) == first
    assert SandboxParcel.objects.count() == 1
    assert [e.kind for e in post.track(first)] == ["accepted"]


def test_management_command(post_app: Application, civil_officer: User) -> None:
    shipment = dispatch(post_app, civil_officer)
    call_command("post_simulate", "--outcome", "transit")
    assert OutboxMessage.objects.filter(kind="webhook").count() == 1
    call_command("post_simulate", shipment.tracking_number, "--outcome", "deliver", "--duplicate")
    # in transit already reported: out for delivery + delivered, each twice
    assert OutboxMessage.objects.filter(kind="webhook").count() == 5
    assert SandboxParcel.objects.get().state == "delivered"


def test_sandbox_page_is_for_admins(
    post_app: Application, civil_officer: User, admin_user: User, clerk: User
) -> None:
    shipment = dispatch(post_app, civil_officer)
    url = reverse("delivery:post_sandbox")
    for user in (civil_officer, clerk):
        assert client_for(user).get(url).status_code == 403
    client = client_for(admin_user)
    page = client.get(url)
    assert page.status_code == 200
    assert shipment.tracking_number in page.content.decode()
    response = client.post(
        url, {"tracking": shipment.tracking_number, "outcome": "return", "reverse": "1"}
    )
    assert response.status_code == 302
    assert SandboxParcel.objects.get().state == "returned"
    assert OutboxMessage.objects.filter(kind="webhook").count() == 3


def test_sandbox_page_is_gone_with_a_real_post_office(admin_user: User, settings: Any) -> None:
    settings.POSTAL_SERVICE = "example.adapters.SyrianPost"
    assert client_for(admin_user).get(reverse("delivery:post_sandbox")).status_code == 404


def test_a_parcel_moves_on_only_after_it_was_handed_in() -> None:
    """Events come after the parcel's last one: 20 minutes apart when there was time for it,
    closer when the parcel was handed in moments ago (the demo's parcels of today)."""
    import datetime as dt
    from itertools import pairwise

    import time_machine
    from django.utils import timezone

    from baladiya.delivery.post import sandbox

    post = postal_service()

    def handed_in(reference: str) -> SandboxParcel:
        post.dispatch(Parcel(reference, "أحمد", "+963944123456", "شارع 1", "الوعر", "المجلس"))
        return SandboxParcel.objects.get(client_reference=reference)

    def times(parcel: SandboxParcel) -> list[dt.datetime]:
        parcel.refresh_from_db()
        return [dt.datetime.fromisoformat(e["at"]) for e in parcel.events]

    with time_machine.travel(timezone.now() - dt.timedelta(hours=3), tick=False):
        old = handed_in("C00-26-000001")
    sandbox.advance(old, "return", notify=False)
    steps = times(old)  # accepted, then in transit, delivery failed, returned
    assert len(steps) == 4 and steps == sorted(steps)
    assert {b - a for a, b in pairwise(steps[1:])} == {sandbox.EVENT_SPACING}

    fresh = handed_in("C00-26-000002")
    sandbox.advance(fresh, "return", notify=False)
    steps = times(fresh)
    assert len(steps) == 4
    assert steps[0] < steps[1] < steps[2] < steps[3] <= timezone.now()
