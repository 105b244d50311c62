"""Dispatch by post: a tracking number from the post office, once, by the right people only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status, transition
from baladiya.core.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.delivery.models import SandboxParcel, Shipment
from baladiya.delivery.post.sandbox import is_tracking_number
from baladiya.delivery.post.services import awaiting_dispatch, dispatch, dispatched_on
from baladiya.delivery.tests.conftest import ADDRESS_PHONE, MakePostApp, client_for
from baladiya.documents.services import revoke_document
from baladiya.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _state(app: Application) -> tuple[str, int, int]:
    app.refresh_from_db()
    return app.status, Shipment.objects.count(), AuditEvent.objects.count()


def test_dispatch_gives_a_tracking_number_and_moves_to_dispatched(
    post_app: Application, civil_officer: User
) -> None:
    assert list(awaiting_dispatch(civil_officer)) == [post_app]
    shipment = dispatch(post_app, civil_officer)

    assert is_tracking_number(shipment.tracking_number)
    assert shipment.tracking_number.startswith("RR") and shipment.tracking_number.endswith("SY")
    assert post_app.status == Status.DISPATCHED
    assert Application.objects.get(pk=post_app.pk).status == Status.DISPATCHED
    assert shipment.state == Shipment.State.DISPATCHED
    assert shipment.recipient_name == post_app.applicant.full_name
    assert shipment.address["phone"] == ADDRESS_PHONE
    assert shipment.center.code == "C00"
    # The post office knows the parcel under our reference.
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    assert parcel.client_reference == post_app.reference
    # History (with the tracking number), audit, and an SMS to the applicant.
    event = post_app.events.get(action="dispatch")
    assert shipment.tracking_number in event.note
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"application.dispatch", "post.dispatched"} <= actions
    assert OutboxMessage.objects.filter(
        kind="sms", dedupe_key=f"status:{event.pk}", recipient=post_app.applicant.phone
    ).exists()
    # It leaves the waiting list and shows among the day's shipments.
    assert list(awaiting_dispatch(civil_officer)) == []
    assert list(dispatched_on(civil_officer, shipment.dispatch_date)) == [shipment]


def test_tracking_numbers_are_sequential_and_distinct(
    make_post_app: MakePostApp, civil_officer: User
) -> None:
    numbers = [dispatch(make_post_app(), civil_officer).tracking_number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert [n[2:10] for n in numbers] == sorted(n[2:10] for n in numbers)


def test_dispatch_twice_is_a_conflict_and_changes_nothing(
    post_app: Application, civil_officer: User
) -> None:
    first = dispatch(post_app, civil_officer)
    before = _state(post_app)
    with pytest.raises(Conflict) as info:
        dispatch(Application.objects.get(pk=post_app.pk), civil_officer)
    assert first.tracking_number in str(info.value.message)
    assert _state(post_app) == before
    assert SandboxParcel.objects.count() == 1


def test_a_pickup_application_cannot_be_posted(
    make_post_app: MakePostApp, civil_officer: User, center: Any
) -> None:
    app = make_post_app(pickup=center)  # issued -> ready_for_pickup at once
    with pytest.raises(IllegalTransition):
        dispatch(app, civil_officer)


def test_not_issued_yet_is_refused(make_post_app: MakePostApp, civil_officer: User) -> None:
    app = make_post_app(status="approved")
    with pytest.raises(IllegalTransition):
        dispatch(app, civil_officer)
    assert Shipment.objects.count() == 0


def test_a_revoked_document_is_not_sent(post_app: Application, civil_officer: User) -> None:
    revoke_document(post_app.document, civil_officer, "خطأ في الاسم")  # type: ignore[attr-defined]
    before = _state(post_app)
    with pytest.raises(DomainError) as info:
        dispatch(post_app, civil_officer)
    assert info.value.code == "revoked"
    assert _state(post_app) == before


def test_post_office_down_changes_nothing(
    post_app: Application, civil_officer: User, settings: Any
) -> None:
    settings.POST_SANDBOX_DOWN = True
    before = _state(post_app)
    with pytest.raises(DomainError) as info:
        dispatch(post_app, civil_officer)
    assert info.value.code == "postal_error"
    assert _state(post_app) == before
    settings.POST_SANDBOX_DOWN = False  # back up: the retry works
    assert dispatch(post_app, civil_officer).tracking_number


def test_a_node_without_a_postal_service_refuses_clearly(
    post_app: Application, civil_officer: User, settings: Any
) -> None:
    settings.POSTAL_SERVICE = ""  # production default: no fake tracking numbers
    before = _state(post_app)
    with pytest.raises(DomainError) as info:
        dispatch(post_app, civil_officer)
    assert "BALADIYA_POSTAL_SERVICE" in str(info.value.message)
    assert _state(post_app) == before
    callback = client_for(civil_officer).post(
        "/delivery/post/callback/", b"{}", content_type="application/json"
    )
    assert callback.status_code == 503


# ---------------------------------------------------------------- who may send


def test_only_the_owning_agencys_officer_sends_online_applications(
    post_app: Application,
    justice_officer: User,
    clerk: User,
    cashier: User,
    supervisor: User,
    auditor: User,
) -> None:
    before = _state(post_app)
    for user in (justice_officer, clerk, cashier, supervisor, auditor):
        with pytest.raises(NotAllowed):
            dispatch(post_app, user)
    assert _state(post_app) == before
    assert list(awaiting_dispatch(justice_officer)) == []
    assert list(awaiting_dispatch(clerk)) == []


def test_a_counter_application_is_sent_by_its_centers_clerk(
    make_post_app: MakePostApp, clerk: User, other_clerk: User, civil_officer: User
) -> None:
    app = make_post_app(online=False)
    for user in (other_clerk, civil_officer):  # another center; the back office
        with pytest.raises(NotAllowed):
            dispatch(app, user)
    assert list(awaiting_dispatch(clerk)) == [app]
    assert list(awaiting_dispatch(other_clerk)) == []
    assert list(awaiting_dispatch(civil_officer)) == []
    assert dispatch(app, clerk).center == clerk.center


def test_nobody_takes_the_posts_own_steps_by_hand(
    post_app: Application, civil_officer: User, admin_user: User
) -> None:
    dispatch(post_app, civil_officer)
    for name in ("deliver", "return_to_sender"):
        for user in (civil_officer, admin_user):
            with pytest.raises(NotAllowed):
                apps.move(post_app, name, user)
    assert Application.objects.get(pk=post_app.pk).status == Status.DISPATCHED
    assert transition("deliver").roles == frozenset()


# ---------------------------------------------------------------- pages


def test_dispatch_from_the_list_page(post_app: Application, civil_officer: User) -> None:
    client = client_for(civil_officer)
    page = client.get(reverse("delivery:dispatch_list"))
    assert page.status_code == 200
    assert post_app.reference in page.content.decode()
    response = client.post(
        reverse("delivery:dispatch_selected"), {"reference": [post_app.reference]}, follow=True
    )
    assert response.status_code == 200
    shipment = Shipment.objects.get(application=post_app)
    body = response.content.decode()
    assert shipment.tracking_number in body  # listed under the day's shipments
    assert "1 document sent by post" in body


def test_dispatch_button_on_the_detail_page(post_app: Application, civil_officer: User) -> None:
    client = client_for(civil_officer)
    url = reverse("delivery:dispatch", args=[post_app.reference])
    detail = client.get(reverse("applications:detail", args=[post_app.reference]))
    assert url in detail.content.decode()
    response = client.post(url, {"next": reverse("applications:detail", args=[post_app.reference])})
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    shipment = Shipment.objects.get(application=post_app)
    assert shipment.tracking_number in detail
    # A second click: a clear message, still one shipment.
    again = client.post(url, follow=True)
    assert "already sent by post" in again.content.decode()
    assert Shipment.objects.count() == 1


def test_pages_refuse_other_roles_and_hide_other_agencies_work(
    post_app: Application,
    justice_officer: User,
    clerk: User,
    cashier: User,
    supervisor: User,
    auditor: User,
) -> None:
    for user in (cashier, supervisor, auditor):
        client = client_for(user)
        assert client.get(reverse("delivery:dispatch_list")).status_code == 403
        assert client.get(reverse("delivery:labels")).status_code == 403
        url = reverse("delivery:dispatch", args=[post_app.reference])
        assert client.post(url).status_code == 403
    for user in (justice_officer, clerk):
        client = client_for(user)
        page = client.get(reverse("delivery:dispatch_list"))
        assert page.status_code == 200
        assert post_app.reference not in page.content.decode()
        url = reverse("delivery:dispatch", args=[post_app.reference])
        assert client.post(url).status_code == 404
    assert Application.objects.get(pk=post_app.pk).status == Status.ISSUED


def test_anonymous_is_sent_to_login(post_app: Application) -> None:
    from django.test import Client

    response = Client().get(reverse("delivery:dispatch_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]
