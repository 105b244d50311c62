"""The citizen's application page follows the document to them: for pickup, the chosen center,
then "ready there", then handed over; for the post, the tracking number, the shipment's state
and the carrier's events, in Arabic and English. Events kept only for the record (a late
"delivered" after a return) are not shown; the page stays light."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application, Channel
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.delivery.models import Handover, IdKind, Shipment
from baladiya.delivery.post import sandbox
from baladiya.delivery.post.interface import EventKind, PostalEvent
from baladiya.delivery.post.models import SandboxParcel
from baladiya.delivery.post.services import dispatch, handle_postal_event
from baladiya.delivery.services import hand_over
from baladiya.documents.services import issue_document
from baladiya.payments.services import record_gateway_payment
from baladiya.portal.tests.conftest import ClientFor

pytestmark = pytest.mark.django_db
ADDRESS = {"line": "شارع الحضارة، بناء 12", "neighbourhood": "الإنشاءات", "phone": "+963944555666"}


def _issue(app: Application, officer: User) -> None:
    record_gateway_payment(app, app.fee_amount, f"sandbox:{app.reference}")
    apps.start_review(app, officer)
    apps.approve(app, officer)
    issue_document(app, officer)
    app.refresh_from_db()


@pytest.fixture
def post_app(citizen_user: User, service: Service, electronic: Center) -> Application:
    assert citizen_user.citizen is not None
    return apps.submit_application(
        citizen_user,
        apps.Submission(
            service=service,
            applicant=citizen_user.citizen,
            center=electronic,
            fields={"purpose": "جامعة البعث"},
            delivery_mode="post",
            delivery_address=ADDRESS,
            channel=Channel.ONLINE,
        ),
    )


def _page(client: Client, app: Application, language: str = "en") -> str:
    response = client.get(
        reverse("portal:application", args=[app.reference]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response.content.decode()


def _carrier(shipment: Shipment, outcome: str) -> list[PostalEvent]:
    """The sandbox post moves the parcel on; its events reach us (as the callback would)."""
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    events = sandbox.advance(parcel, outcome, notify=False)
    for event in events:
        handle_postal_event(event)
    return events


def test_pickup_shows_the_center_then_ready_then_handed_over(
    client_for: ClientFor,
    citizen_user: User,
    online_app: Application,
    officer: User,
    clerk: User,
    center: Center,
) -> None:
    web = client_for(citizen_user)
    Center.objects.filter(pk=center.pk).update(opening_hours="8:00–14:00")
    body = _page(web, online_app)
    assert "Pickup at a center: al-Inshaat center" in body
    assert 'id="delivery"' not in body  # nothing to follow yet

    _issue(online_app, officer)
    assert online_app.status == "ready_for_pickup"
    body = _page(web, online_app)
    assert 'id="ready"' in body
    assert "Ready at al-Inshaat center: bring your ID card." in body
    assert "Opening hours: 8:00–14:00" in body
    arabic = _page(web, online_app, "ar")
    assert "مركز الإنشاءات" in arabic and 'id="ready"' in arabic
    assert "Ready at" not in arabic  # translated

    hand_over(
        online_app,
        clerk,
        recipient_name=online_app.applicant.full_name,
        id_kind=IdKind.NATIONAL_ID,
        id_number=online_app.applicant.national_number,
    )
    body = _page(web, online_app)
    assert 'id="ready"' not in body and 'id="handed-over"' in body
    assert "Handed over at al-Inshaat center on" in body
    assert Handover.objects.get(application=online_app).center == center


def test_post_shows_the_tracking_number_state_and_events(
    client_for: ClientFor, citizen_user: User, post_app: Application, officer: User
) -> None:
    web = client_for(citizen_user)
    _issue(post_app, officer)
    assert post_app.status == "issued"
    body = _page(web, post_app)
    assert "By post: شارع الحضارة، بناء 12" in body and 'id="delivery"' not in body

    shipment = dispatch(post_app, officer)
    body = _page(web, post_app)
    assert f'<dd id="tracking-number"><bdi dir="ltr">{shipment.tracking_number}</bdi></dd>' in body
    assert ">With the post<" in body and "Sent by post" in body
    assert "The post has not reported anything yet." in body
    assert timezone.localdate().isoformat() in body

    _carrier(shipment, "deliver")
    body = _page(web, post_app)
    assert ">Delivered<" in body and "Delivered by post" in body
    table = body.split('<table class="postal-events">', 1)[1].split("</table>", 1)[0]
    kinds = ["In transit", "Out for delivery", "Delivered"]
    positions = [table.index(k) for k in kinds]
    assert positions == sorted(positions)  # oldest first
    assert sandbox.SORTING in table and "الإنشاءات" in table

    arabic = _page(web, post_app, "ar")
    assert shipment.tracking_number in arabic
    for english in ("Tracking number", "In transit", "Out for delivery", "With the post"):
        assert english not in arabic, english


def test_a_returned_parcel_waits_at_a_center_and_late_events_are_not_shown(
    client_for: ClientFor,
    citizen_user: User,
    post_app: Application,
    officer: User,
    center: Center,
) -> None:
    web = client_for(citizen_user)
    _issue(post_app, officer)
    shipment = dispatch(post_app, officer)
    _carrier(shipment, "return")
    late = PostalEvent(
        event_id="EV-LATE",
        tracking_number=shipment.tracking_number,
        kind=EventKind.DELIVERED,
        occurred_at=timezone.now() + dt.timedelta(minutes=5),
        location="حمص",
    )
    assert handle_postal_event(late) == "ignored"
    post_app.refresh_from_db()
    assert post_app.status == "ready_for_pickup" and post_app.pickup_center == center

    body = _page(web, post_app)
    assert ">Returned to sender<" in body
    assert "Ready at al-Inshaat center: bring your ID card." in body
    table = body.split('<table class="postal-events">', 1)[1].split("</table>", 1)[0]
    assert "Delivery attempt failed" in table and "Returned to sender" in table
    assert ">Delivered<" not in table  # the late event is kept for the staff only


def test_another_citizen_sees_nothing_of_the_shipment(
    client_for: ClientFor, other_user: User, post_app: Application, officer: User
) -> None:
    _issue(post_app, officer)
    dispatch(post_app, officer)
    response = client_for(other_user).get(reverse("portal:application", args=[post_app.reference]))
    assert response.status_code == 404
    assert Shipment.objects.get().tracking_number not in response.content.decode()


def test_the_page_with_a_long_postal_history_stays_light(
    client_for: ClientFor, citizen_user: User, post_app: Application, officer: User
) -> None:
    _issue(post_app, officer)
    shipment = dispatch(post_app, officer)
    start = timezone.now() - dt.timedelta(days=3)
    for i in range(30):  # a parcel that went around for a while
        handle_postal_event(
            PostalEvent(
                event_id=f"EV{i:03d}",
                tracking_number=shipment.tracking_number,
                kind=EventKind.DELIVERY_FAILED if i % 3 else EventKind.IN_TRANSIT,
                occurred_at=start + dt.timedelta(hours=i),
                location="مركز الفرز — حمص",
                detail="المستلم غير موجود في العنوان",
            )
        )
    response = client_for(citizen_user).get(
        reverse("portal:application", args=[post_app.reference]), HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content).decode().count("<tr>") >= 30
    assert len(response.content) < 20 * 1024
