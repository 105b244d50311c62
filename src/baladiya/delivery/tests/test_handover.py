"""Hand-over at the pickup center: identity check, one handover only, right clerk only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.applications.services import Submission, move, submit_application
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.core.testing import logged_in
from baladiya.delivery.models import Handover, IdKind
from baladiya.delivery.services import hand_over

pytestmark = pytest.mark.django_db

TO_PICKUP = ("pay", "start_review", "approve", "issue", "route_to_pickup")


def make_ready(
    clerk: User, service: Service, citizen: Citizen, pickup: Center | None = None
) -> Application:
    """An application submitted at the clerk's center, walked to `ready_for_pickup`."""
    assert clerk.center is not None
    app = submit_application(
        clerk,
        Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,
            fields={"purpose": "جهة عامة"},
            pickup_center=pickup or clerk.center,
        ),
    )
    for step in TO_PICKUP:
        move(app, step, None, check_permission=False)
    return app


def _snapshot(app: Application) -> tuple[str, int, int, int]:
    app.refresh_from_db()
    return (
        app.status,
        Handover.objects.count(),
        AuditEvent.objects.count(),
        app.events.count(),
    )


# ---------------------------------------------------------------- service


def test_pickup_center_clerk_hands_over_to_the_applicant(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    handover = hand_over(app, clerk, "", IdKind.NATIONAL_ID, citizen.national_number)
    app.refresh_from_db()
    assert app.status == Status.HANDED_OVER
    assert handover.application_id == app.pk
    assert handover.center == clerk.center
    assert handover.handed_by == clerk
    assert handover.recipient_name == citizen.full_name  # defaults to the applicant
    assert (handover.id_kind, handover.id_number) == ("national_id", citizen.national_number)
    assert handover.is_applicant
    assert app.events.filter(action="hand_over", actor=clerk).exists()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions[-2:] == ["application.hand_over", "delivery.handed_over"]
    assert audit.verify_chain() == []


def test_id_number_typed_with_arabic_digits_and_spaces_matches(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    typed = "٠٤٠ ١٢٣٤ ٥٦٧٨"  # 04012345678
    handover = hand_over(app, clerk, citizen.full_name, "national_id", typed)
    assert handover.id_number == citizen.national_number


def test_wrong_id_number_is_refused_and_changes_nothing(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    before = _snapshot(app)
    with pytest.raises(DomainError) as err:
        hand_over(app, clerk, citizen.full_name, "national_id", "04099999999")
    assert err.value.code == "id_mismatch"
    assert "does not match" in str(err.value.message)
    assert _snapshot(app) == before
    assert app.status == Status.READY_FOR_PICKUP


def test_missing_id_number_is_refused(clerk: User, service: Service, citizen: Citizen) -> None:
    app = make_ready(clerk, service, citizen)
    with pytest.raises(DomainError):
        hand_over(app, clerk, citizen.full_name, "national_id", "  ")
    with pytest.raises(DomainError):
        hand_over(app, clerk, citizen.full_name, "driving_licence", "123")
    assert not Handover.objects.exists()


def test_applicant_with_passport_is_accepted(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    handover = hand_over(app, clerk, citizen.full_name, IdKind.PASSPORT, "n0123456")
    assert handover.id_number == "N0123456"


def test_representative_needs_a_power_of_attorney_or_family_book(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    with pytest.raises(DomainError) as err:
        hand_over(app, clerk, "خالد الحمصي", IdKind.NATIONAL_ID, "04011111111", is_applicant=False)
    assert err.value.code == "id_kind"
    with pytest.raises(DomainError):  # a representative must give their name
        hand_over(app, clerk, "", IdKind.POWER_OF_ATTORNEY, "وكالة 1234", is_applicant=False)
    handover = hand_over(
        app, clerk, "خالد الحمصي", IdKind.POWER_OF_ATTORNEY, "1234/2026", is_applicant=False
    )
    assert not handover.is_applicant
    assert handover.recipient_name == "خالد الحمصي"
    assert app.events.get(action="hand_over").note == "Collected by خالد الحمصي"


def test_another_centers_clerk_is_refused(
    clerk: User, other_clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    before = _snapshot(app)
    with pytest.raises(NotAllowed):
        hand_over(app, other_clerk, citizen.full_name, "national_id", citizen.national_number)
    assert _snapshot(app) == before


def test_cashier_is_refused(clerk: User, cashier: User, service: Service, citizen: Citizen) -> None:
    app = make_ready(clerk, service, citizen)
    with pytest.raises(NotAllowed):
        hand_over(app, cashier, citizen.full_name, "national_id", citizen.national_number)
    assert not Handover.objects.exists()


def test_pickup_center_not_the_submitting_center_decides(
    clerk: User, other_clerk: User, service: Service, citizen: Citizen, center: Center
) -> None:
    """Submitted at C05 for pickup at C03: C03's clerk hands over, C05's may not."""
    app = make_ready(other_clerk, service, citizen, pickup=center)
    with pytest.raises(NotAllowed):
        hand_over(app, other_clerk, "", "national_id", citizen.national_number)
    handover = hand_over(app, clerk, "", "national_id", citizen.national_number)
    assert handover.center == center


def test_handed_over_document_cannot_be_handed_over_again(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    hand_over(app, clerk, "", "national_id", citizen.national_number)
    before = _snapshot(app)
    stale = Application.objects.get(pk=app.pk)
    with pytest.raises(Conflict) as err:
        hand_over(stale, clerk, "", "national_id", citizen.national_number)
    assert err.value.code == "already_handed_over"
    assert citizen.full_name in str(err.value.message)
    assert _snapshot(app) == before


def test_only_a_document_ready_for_pickup_can_be_handed_over(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = submit_application(
        clerk,
        Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,  # type: ignore[arg-type]
            fields={"purpose": "مصرف"},
            pickup_center=clerk.center,
        ),
    )
    with pytest.raises(IllegalTransition):
        hand_over(app, clerk, "", "national_id", citizen.national_number)
    assert not Handover.objects.exists()


def test_revoked_document_is_not_handed_over(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    from baladiya.documents.models import IssuedDocument, SigningKey

    app = make_ready(clerk, service, citizen)
    key = SigningKey.objects.create(key_id="test-key", public_key="x", valid_from=timezone.now())
    IssuedDocument.objects.create(
        number="C03-D26-000001",
        application=app,
        center=app.center,
        title_ar="بيان قيد فردي",
        title_en="Individual civil-registry extract",
        holder_name=citizen.full_name,
        holder_national_number=citizen.national_number,
        issued_at=timezone.now(),
        valid_until=dt.date(2026, 12, 31),
        key=key,
        payload="-",
        pdf=b"%PDF-",
        pdf_sha256="0" * 64,
        state=IssuedDocument.State.REVOKED,
    )
    with pytest.raises(DomainError) as err:
        hand_over(app, clerk, "", "national_id", citizen.national_number)
    assert err.value.code == "revoked"
    assert not Handover.objects.exists()


# ---------------------------------------------------------------- views


_client = logged_in


def _url(app: Application) -> str:
    return reverse("delivery:handover", args=[app.reference])


def test_form_shows_applicant_and_document(clerk: User, service: Service, citizen: Citizen) -> None:
    app = make_ready(clerk, service, citizen)
    response = _client(clerk).get(_url(app))
    assert response.status_code == 200
    html = response.content.decode()
    assert citizen.full_name in html
    assert citizen.national_number in html
    assert app.reference in html
    assert 'name="id_number"' in html


def test_posting_the_form_hands_over_and_returns_to_the_queue(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    client = _client(clerk)
    data = {"recipient": "applicant", "id_kind": "national_id", "id_number": "04012345678"}
    response = client.post(_url(app), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("delivery:pickup_queue")
    assert "handed over" in response.content.decode()
    app.refresh_from_db()
    assert app.status == Status.HANDED_OVER


def test_double_submit_gives_a_clear_message_and_one_handover(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    client = _client(clerk)
    data = {"recipient": "applicant", "id_kind": "national_id", "id_number": "04012345678"}
    client.post(_url(app), data)
    response = client.post(_url(app), data, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "already handed over" in html
    assert Handover.objects.filter(application=app).count() == 1
    # The page now shows who took it, and no form.
    assert 'name="id_number"' not in html


def test_wrong_id_number_shows_the_form_again(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    data = {"recipient": "applicant", "id_kind": "national_id", "id_number": "04099999999"}
    response = _client(clerk).post(_url(app), data)
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    app.refresh_from_db()
    assert app.status == Status.READY_FOR_PICKUP


def test_representative_without_name_is_asked_for_it(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    data = {"recipient": "other", "id_kind": "proxy", "id_number": "1234"}
    response = _client(clerk).post(_url(app), data)
    assert "Enter the name of the person collecting" in response.content.decode()
    assert not Handover.objects.exists()


def test_another_centers_clerk_gets_404(
    clerk: User, other_clerk: User, service: Service, citizen: Citizen
) -> None:
    app = make_ready(clerk, service, citizen)
    client = _client(other_clerk)
    assert client.get(_url(app)).status_code == 404
    data = {"recipient": "applicant", "id_kind": "national_id", "id_number": "04012345678"}
    assert client.post(_url(app), data).status_code == 404
    assert not Handover.objects.exists()


def test_cashier_gets_403(clerk: User, cashier: User, service: Service, citizen: Citizen) -> None:
    app = make_ready(clerk, service, citizen)
    assert _client(cashier).get(_url(app)).status_code == 403


def test_anonymous_is_sent_to_login(clerk: User, service: Service, citizen: Citizen) -> None:
    app = make_ready(clerk, service, citizen)
    response = Client().get(_url(app))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_unknown_reference_is_404(clerk: User) -> None:
    response = _client(clerk).get(reverse("delivery:handover", args=["C03-26-999999"]))
    assert response.status_code == 404


def test_issued_document_number_is_shown_and_then_handed_over(
    clerk: User, service: Service, citizen: Citizen
) -> None:
    """With a real issued document: the form shows its number; the queue row too."""
    from baladiya.documents.services import issue_document

    app = submit_application(
        clerk,
        Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,  # type: ignore[arg-type]
            fields={"purpose": "جامعة"},
            pickup_center=clerk.center,
        ),
    )
    for step in ("pay", "start_review", "approve"):
        move(app, step, None, check_permission=False)
    document = issue_document(app, clerk)
    app.refresh_from_db()
    assert app.status == Status.READY_FOR_PICKUP
    client = _client(clerk)
    assert document.number in client.get(_url(app)).content.decode()
    queue = client.get(reverse("delivery:pickup_queue")).content.decode()
    assert document.number in queue
    response = client.get(reverse("delivery:pickup_queue"), {"q": document.number})
    assert response["Location"] == _url(app)
    hand_over(app, clerk, "", "national_id", citizen.national_number)
    app.refresh_from_db()
    assert app.status == Status.HANDED_OVER
