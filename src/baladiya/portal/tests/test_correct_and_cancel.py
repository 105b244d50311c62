"""A citizen corrects and resubmits their own returned online application, or cancels it
while nothing was paid; never someone else's, never a staff step, never a counter one."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import citizen_refusal, may_take, require_transition
from baladiya.applications import services as applications
from baladiya.applications.models import Application, Channel
from baladiya.applications.workflow import TRANSITIONS, transition
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.errors import NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.core.uploads import check_upload
from baladiya.payments.services import record_gateway_payment
from baladiya.portal.tests.conftest import EXE, PDF, ClientFor

pytestmark = pytest.mark.django_db

NOTE = "الرقم الوطني للزوج غير صحيح وصورة الهوية غير واضحة"


@pytest.fixture
def online(
    citizen_user: User, portal_service: Service, electronic: Center, center: Center
) -> Application:
    """The citizen's online application with an ID-card scan, just submitted (unpaid)."""
    assert citizen_user.citizen is not None
    return applications.submit_application(
        citizen_user,
        applications.Submission(
            service=portal_service,
            applicant=citizen_user.citizen,
            center=electronic,
            fields={"spouse_number": "04011122233", "purpose": "المحكمة"},
            pickup_center=center,
            attachments={"id-card": check_upload(SimpleUploadedFile("هوية.pdf", PDF))},
            channel=Channel.ONLINE,
        ),
    )


@pytest.fixture
def returned(online: Application, officer: User) -> Application:
    """Paid online, reviewed by the back office and returned with a note."""
    record_gateway_payment(online, online.fee_amount, "sandbox:tx-1")
    applications.start_review(online, officer)
    applications.return_for_correction(online, officer, NOTE)
    return online


def _status(app: Application) -> str:
    return Application.objects.get(pk=app.pk).status


def _correct_url(app: Application) -> str:
    return f"/e/applications/{app.reference}/correct/"


def _cancel_url(app: Application) -> str:
    return f"/e/applications/{app.reference}/cancel/"


# ---------------------------------------------------------------- correct and resubmit


def test_owner_sees_what_to_correct_and_corrects_with_a_new_paper(
    client_for: ClientFor, citizen_user: User, returned: Application
) -> None:
    client = client_for(citizen_user)
    page = client.get(f"/e/applications/{returned.reference}/").content.decode()
    assert NOTE in page and _correct_url(returned) in page
    assert _cancel_url(returned) not in page  # a fee was paid: no cancel link

    form = client.get(_correct_url(returned))
    assert form.status_code == 200
    body = form.content.decode()
    assert NOTE in body and 'name="att_id-card"' in body and "هوية.pdf" in body
    assert form.context["form"]["f_spouse_number"].value() == "04011122233"

    bad = client.post(
        _correct_url(returned),
        {"f_spouse_number": "04099988877", "att_id-card": SimpleUploadedFile("h.pdf", EXE)},
    )
    assert bad.status_code == 400
    assert "Only PDF, PNG or JPEG files are accepted." in bad.content.decode()
    assert _status(returned) == "returned" and returned.attachments.count() == 1

    done = client.post(
        _correct_url(returned),
        {
            "f_spouse_number": "04099988877",
            "f_purpose": "المحكمة",
            "note": "صححت الرقم",
            "att_id-card": SimpleUploadedFile("هوية-واضحة.pdf", PDF + b"%2\n"),
        },
    )
    assert done.status_code == 302
    assert done["Location"] == f"/e/applications/{returned.reference}/"
    fresh = Application.objects.get(pk=returned.pk)
    assert fresh.status == "paid"  # back to the back office's queue
    assert fresh.field_values["spouse_number"] == "04099988877"
    assert [a.original_name for a in applications.current_attachments(fresh)] == ["هوية-واضحة.pdf"]
    assert fresh.attachments.count() == 2
    event = AuditEvent.objects.get(action="application.resubmit")
    assert event.actor == citizen_user.username
    assert event.data["changed_fields"] == ["spouse_number"]
    assert event.data["changes"] == {}  # a national number: name only
    assert list(event.data["replaced_attachments"]) == ["id-card"]
    after = client.get(done["Location"]).content.decode()
    assert "sent back for review" in after and "هوية-واضحة.pdf" in after
    # Sent twice (a second tab): nothing more happens.
    again = client.post(_correct_url(returned), {"f_spouse_number": "04099988877"})
    assert again.status_code == 302 and _status(returned) == "paid"


def test_another_citizen_gets_404_and_changes_nothing(
    client_for: ClientFor, other_user: User, returned: Application
) -> None:
    client = client_for(other_user)
    assert client.get(_correct_url(returned)).status_code == 404
    post = client.post(_correct_url(returned), {"f_spouse_number": "04099988877"})
    assert post.status_code == 404
    assert client.post(_cancel_url(returned), {"reason": "x"}).status_code == 404
    assert _status(returned) == "returned"
    assert other_user.citizen is not None
    with pytest.raises(NotAllowed, match="another person's application"):
        applications.resubmit(returned, other_user, {"spouse_number": "04099988877"})


def test_citizen_never_takes_a_staff_step(
    client_for: ClientFor, citizen_user: User, online: Application, returned: Application
) -> None:
    staff_steps = {n for n, t in TRANSITIONS.items() if "citizen" not in t.roles}
    assert {"pay", "start_review", "approve", "return", "issue", "cancel_with_refund"} <= (
        staff_steps
    )
    for name in staff_steps:
        assert not may_take(citizen_user, returned, TRANSITIONS[name])
        assert citizen_refusal(citizen_user, returned, TRANSITIONS[name]) is not None
    with pytest.raises(NotAllowed, match="Only the council's staff"):
        require_transition(citizen_user, returned, transition("start_review"))
    # The staff screens refuse the account outright.
    client = client_for(citizen_user)
    assert client.post(f"/applications/{returned.reference}/resubmit/").status_code == 403
    assert client.post(f"/applications/{returned.reference}/act/cancel/").status_code == 403
    assert _status(returned) == "returned"


def test_counter_application_is_corrected_at_its_center(
    client_for: ClientFor,
    citizen_user: User,
    citizen: Citizen,
    clerk: User,
    center: Center,
    service: Service,
) -> None:
    app = applications.submit_application(
        clerk,
        applications.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "جامعة البعث"},
            pickup_center=center,
        ),
    )
    client = client_for(citizen_user)
    page = client.get(f"/e/applications/{app.reference}/").content.decode()
    assert _cancel_url(app) not in page
    response = client.post(_cancel_url(app), {"reason": "لم أعد بحاجة"})
    assert response.status_code == 403
    assert "made at a service center" in response.content.decode()
    assert _status(app) == "submitted"


def test_resubmit_only_when_returned(
    client_for: ClientFor, citizen_user: User, online: Application
) -> None:
    client = client_for(citizen_user)
    response = client.get(_correct_url(online))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "is not possible now" in page
    assert _correct_url(online) not in page
    assert _status(online) == "submitted"


# ---------------------------------------------------------------- cancel


def test_owner_cancels_an_unpaid_application(
    client_for: ClientFor, citizen_user: User, online: Application
) -> None:
    client = client_for(citizen_user)
    page = client.get(f"/e/applications/{online.reference}/").content.decode()
    assert _cancel_url(online) in page
    assert client.get(_cancel_url(online)).status_code == 200
    empty = client.post(_cancel_url(online), {"reason": ""})
    assert empty.status_code == 400 and _status(online) == "submitted"
    done = client.post(_cancel_url(online), {"reason": "قدمت الطلب مرتين"})
    assert done.status_code == 302
    assert _status(online) == "cancelled"
    event = online.events.get(action="cancel")
    assert (event.actor, event.note) == (citizen_user, "قدمت الطلب مرتين")
    assert AuditEvent.objects.filter(action="application.cancel", actor=citizen_user.username)
    history = client.get(done["Location"]).content.decode()
    assert "Your application was cancelled." in history and "قدمت الطلب مرتين" in history


def test_cancel_is_refused_once_paid(
    client_for: ClientFor, citizen_user: User, online: Application, officer: User
) -> None:
    client = client_for(citizen_user)
    record_gateway_payment(online, online.fee_amount, "sandbox:tx-9")
    response = client.post(_cancel_url(online), {"reason": "x"})
    assert response.status_code == 302  # back to the page, with the reason
    assert "is not possible now" in client.get(response["Location"]).content.decode()
    assert _status(online) == "paid"
    # Returned after payment: still paid for, so only the council cancels (with a refund).
    applications.start_review(online, officer)
    applications.return_for_correction(online, officer, "x")
    refused = client.post(_cancel_url(online), {"reason": "x"})
    assert refused.status_code == 403
    assert "ask the council to cancel it with a refund" in refused.content.decode()
    assert _status(online) == "returned"
    with pytest.raises(NotAllowed):
        applications.cancel(online, citizen_user, "x")
