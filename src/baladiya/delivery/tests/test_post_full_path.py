"""The whole post path through the sandbox post office and the outbox: issued -> dispatched ->
delivered; or returned -> the right center's pickup queue -> handed over there."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.accounts.permissions import can_view_application
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.audit import verify_chain
from baladiya.core.errors import NotAllowed
from baladiya.delivery.models import SandboxParcel, Shipment
from baladiya.delivery.post import sandbox
from baladiya.delivery.post.services import dispatch, return_center, sync_tracking
from baladiya.delivery.services import hand_over, pickup_queue
from baladiya.delivery.tests.conftest import MakePostApp, client_for
from baladiya.notifications.models import OutboxMessage, SandboxSms
from baladiya.notifications.services import deliver_due

pytestmark = pytest.mark.django_db


def _pump() -> None:
    """The outbox pump, until nothing is due (callbacks and SMS)."""
    for _ in range(5):
        if deliver_due(limit=200).handled == 0:
            return


def _status(app: Application) -> str:
    return Application.objects.get(pk=app.pk).status


def test_issued_dispatched_delivered(post_app: Application, civil_officer: User) -> None:
    shipment = dispatch(post_app, civil_officer)
    assert sandbox.simulate([shipment.tracking_number], outcome="deliver").delivered == [
        shipment.tracking_number
    ]
    # Nothing changes until the callbacks arrive (later, through the outbox).
    assert _status(post_app) == Status.DISPATCHED
    webhooks = OutboxMessage.objects.filter(kind="webhook")
    assert webhooks.count() == 3
    assert all("X-Post-Signature" in m.headers for m in webhooks)
    _pump()

    assert _status(post_app) == Status.DELIVERED
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DELIVERED
    assert [e.kind for e in shipment.events.all()] == [
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert not OutboxMessage.objects.exclude(state="sent").exists()
    # The applicant got an SMS at each visible step (dispatched, delivered among them).
    assert SandboxSms.objects.filter(phone=post_app.applicant.phone).count() >= 2
    # The dispatch SMS carries the tracking number, so the citizen can follow the parcel.
    assert SandboxSms.objects.filter(text__contains=shipment.tracking_number).exists()
    assert verify_chain() == []


def test_callbacks_twice_and_backwards_end_the_same(
    post_app: Application, civil_officer: User
) -> None:
    shipment = dispatch(post_app, civil_officer)
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    sandbox.advance(parcel, "deliver", duplicate=True, reverse_order=True)
    assert OutboxMessage.objects.filter(kind="webhook").count() == 6
    _pump()
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.DELIVERED
    assert shipment.last_event == "delivered"  # the older progress events came after it
    assert shipment.events.count() == 3
    assert Application.objects.get(pk=post_app.pk).events.filter(action="deliver").count() == 1


def test_returned_document_waits_at_the_neighbourhoods_center_and_is_handed_over_there(
    post_app: Application,
    civil_officer: User,
    clerk: User,
    other_clerk: User,
    center: Center,
    other_center: Center,
) -> None:
    shipment = dispatch(post_app, civil_officer)
    call_command("post_simulate", shipment.tracking_number, "--outcome", "return", "--flush")
    _pump()

    app = Application.objects.select_related("pickup_center").get(pk=post_app.pk)
    assert app.status == Status.READY_FOR_PICKUP
    assert app.pickup_center == center  # al-Inshaat is served by C03
    shipment.refresh_from_db()
    assert (shipment.state, shipment.returned_to) == (Shipment.State.RETURNED, center)
    note = app.events.get(action="return_to_sender").note
    assert "C03" in note

    # C03's pickup queue lists it; C05's does not.
    assert list(pickup_queue(center)) == [app]
    assert list(pickup_queue(other_center)) == []
    assert can_view_application(clerk, app) and not can_view_application(other_clerk, app)
    page = client_for(clerk).get(reverse("delivery:pickup_queue"))
    assert app.reference in page.content.decode()

    # Another center's clerk may not hand it over; C03's clerk does.
    with pytest.raises(NotAllowed):
        hand_over(app, other_clerk, "", "national_id", app.applicant.national_number)
    hand_over(app, clerk, "", "national_id", app.applicant.national_number)
    assert _status(app) == Status.HANDED_OVER
    assert verify_chain() == []


def test_return_center_rule(
    make_post_app: MakePostApp,
    center: Center,
    other_center: Center,
    electronic_center: Center,
) -> None:
    # 1. The neighbourhood's center (names match however they are spelled).
    app = make_post_app(address={"line": "شارع 1", "neighbourhood": "الانشاءات"})
    assert return_center(app) == center
    # 2. No known neighbourhood: the issuing center — but C00 has no counter, so the first
    #    center of the network.
    app = make_post_app(address={"line": "شارع 2", "neighbourhood": "حي مجهول"})
    assert return_center(app) == center
    ikrima = Neighbourhood.objects.create(name_ar="عكرمة الجديدة", name_en="Ikrima al-Jadida")
    other_center.neighbourhoods.add(ikrima)
    app = make_post_app(address={"line": "شارع 3", "neighbourhood": "Ikrima al-Jadida"})
    assert return_center(app) == other_center
    # A counter application comes back to the center that issued it.
    counter_app = make_post_app(online=False, address={"line": "شارع 4"})
    counter_app.center = other_center
    assert return_center(counter_app) == other_center
    # A center that stopped taking pickups is skipped.
    other_center.accepts_pickup = False
    other_center.save()
    assert return_center(app) == center


def test_sync_tracking_catches_up_on_lost_callbacks(
    post_app: Application, civil_officer: User
) -> None:
    shipment = dispatch(post_app, civil_officer)
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    sandbox.advance(parcel, "deliver", notify=False)  # the callbacks never came
    outcomes = sync_tracking(shipment)
    assert outcomes == ["recorded", "recorded", "recorded", "applied"]  # accepted first
    assert _status(post_app) == Status.DELIVERED
    assert sync_tracking(shipment) == ["duplicate"] * 4


def test_simulate_chaos_and_cli(
    make_post_app: MakePostApp, civil_officer: User, capsys: Any
) -> None:
    from baladiya import cli

    numbers = [dispatch(make_post_app(), civil_officer).tracking_number for _ in range(4)]
    assert cli.main(["post", "simulate", "--chaos", "--seed", "3", "--flush"]) == 0
    out = capsys.readouterr().out
    assert "callbacks queued" in out
    _pump()
    states = set(Shipment.objects.values_list("state", flat=True))
    assert states <= {"delivered", "returned"} and states
    for number in numbers:
        app = Shipment.objects.get(tracking_number=number).application
        assert app.status in {Status.DELIVERED, Status.READY_FOR_PICKUP}
    # Nothing left to move on.
    assert sandbox.simulate().callbacks == 0
