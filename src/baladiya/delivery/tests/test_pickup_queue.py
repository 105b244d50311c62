"""The pickup queue: only this center's waiting documents, oldest first, fast search."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import ApplicationEvent
from baladiya.applications.services import Submission, move, submit_application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.testing import logged_in
from baladiya.delivery.services import pickup_queue, search_pickup_queue, waiting_days
from baladiya.delivery.tests.test_handover import make_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_citizen(db: None) -> Citizen:
    return Citizen.objects.create(
        national_number="04029876543",
        first_name="مريم",
        father_name="يوسف",
        last_name="الخوري",
        mother_name="ليلى",
    )


_client = logged_in


def test_queue_lists_only_this_centers_waiting_documents_oldest_first(
    clerk: User,
    other_clerk: User,
    service: Service,
    citizen: Citizen,
    other_citizen: Citizen,
    center: Center,
    other_center: Center,
) -> None:
    first = make_ready(clerk, service, citizen)
    second = make_ready(other_clerk, service, other_citizen, pickup=center)  # comes to C03
    elsewhere = make_ready(other_clerk, service, citizen)  # waits at C05
    not_ready = submit_application(
        clerk,
        Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "مصرف"},
            pickup_center=center,
        ),
    )
    move(not_ready, "pay", None, check_permission=False)
    # `first` arrived later than `second`: the longest-waiting comes first.
    ApplicationEvent.objects.filter(application=first, to_status="ready_for_pickup").update(
        created_at=ApplicationEvent.objects.get(
            application=second, to_status="ready_for_pickup"
        ).created_at
        + dt.timedelta(minutes=5)
    )
    assert [a.reference for a in pickup_queue(center)] == [second.reference, first.reference]
    assert [a.reference for a in pickup_queue(other_center)] == [elsewhere.reference]


def test_handed_over_documents_leave_the_queue(
    clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    from baladiya.delivery.services import hand_over

    app = make_ready(clerk, service, citizen)
    assert pickup_queue(center).count() == 1
    hand_over(app, clerk, "", "national_id", citizen.national_number)
    assert pickup_queue(center).count() == 0


def test_search_by_reference_national_number_and_name(
    clerk: User,
    service: Service,
    citizen: Citizen,
    other_citizen: Citizen,
    center: Center,
) -> None:
    mine = make_ready(clerk, service, citizen)
    theirs = make_ready(clerk, service, other_citizen)
    assert list(search_pickup_queue(center, mine.reference.lower())) == [mine]
    assert list(search_pickup_queue(center, "٠٤٠٢٩٨٧٦٥٤٣")) == [theirs]  # Arabic digits
    assert list(search_pickup_queue(center, "0401")) == [mine]
    assert list(search_pickup_queue(center, "الحمصى")) == [mine]  # ى/ي folded
    assert list(search_pickup_queue(center, "C03-26-999999")) == []


def test_waiting_days() -> None:
    assert waiting_days(None) == 0
    arrived = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    assert waiting_days(arrived, today=dt.date(2026, 3, 4)) == 3


def test_clerk_sees_the_queue_of_their_center(
    clerk: User,
    other_clerk: User,
    service: Service,
    citizen: Citizen,
    other_citizen: Citizen,
) -> None:
    mine = make_ready(clerk, service, citizen)
    theirs = make_ready(other_clerk, service, other_citizen)
    response = _client(clerk).get(reverse("delivery:pickup_queue"))
    assert response.status_code == 200
    html = response.content.decode()
    assert mine.reference in html
    assert theirs.reference not in html
    assert "autofocus" in html


def test_searching_one_reference_opens_its_handover_form(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    response = _client(clerk).get(reverse("delivery:pickup_queue"), {"q": app.reference})
    assert response.status_code == 302
    assert response["Location"] == reverse("delivery:handover", args=[app.reference])


def test_search_without_match_says_so(clerk: User, service: Service, citizen: Citizen) -> None:
    make_ready(clerk, service, citizen)
    response = _client(clerk).get(reverse("delivery:pickup_queue"), {"q": "C05-26-000001"})
    assert response.status_code == 200
    assert "No document waiting at this center matches" in response.content.decode()


def test_another_centers_document_is_not_found_by_search(
    clerk: User, other_clerk: User, service: Service, citizen: Citizen
) -> None:
    theirs = make_ready(other_clerk, service, citizen)
    response = _client(clerk).get(reverse("delivery:pickup_queue"), {"q": theirs.reference})
    assert response.status_code == 200
    assert "No document waiting at this center matches" in response.content.decode()


def test_cashier_may_not_open_the_pickup_queue(cashier: User) -> None:
    assert _client(cashier).get(reverse("delivery:pickup_queue")).status_code == 403


def test_admin_chooses_the_center(
    admin_user: User,
    other_clerk: User,
    service: Service,
    citizen: Citizen,
    other_center: Center,
    center: Center,
) -> None:
    app = make_ready(other_clerk, service, citizen)
    client = _client(admin_user)
    response = client.get(reverse("delivery:pickup_queue"), {"center": "C05"})
    assert response.status_code == 200
    assert app.reference in response.content.decode()
    response = client.get(reverse("delivery:pickup_queue"), {"center": "C03"})
    assert app.reference not in response.content.decode()


def test_a_revoked_document_stays_listed_flagged_and_cannot_be_handed_over(
    clerk: User, supervisor: User, service: Service, citizen: Citizen, center: Center
) -> None:
    from baladiya.documents.services import issue_document, revoke_document

    app = submit_application(
        clerk,
        Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "جهة عامة"},
            pickup_center=center,
        ),
    )
    for step in ("pay", "start_review", "approve"):
        move(app, step, None, check_permission=False)
    issue_document(app, clerk)
    app.refresh_from_db()
    revoke_document(app.document, supervisor, "خطأ في الاسم")
    html = _client(clerk).get(reverse("delivery:pickup_queue")).content.decode()
    # The holder will come: the clerk finds the row and sees why it cannot be given.
    assert app.reference in html and "data-revoked" in html
    assert reverse("delivery:handover", args=[app.reference]) not in html
