"""Review actions from the application page: state machine, roles, centers, notes."""

from __future__ import annotations

import pytest
from django.test import Client

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.tests.conftest import LoginAs, MakeApp
from baladiya.catalog.models import Service

pytestmark = pytest.mark.django_db


def _act(client: Client, app: Application, action: str, note: str = "") -> object:
    return client.post(f"/applications/{app.reference}/act/{action}/", {"note": note})


def _status(app: Application) -> str:
    return Application.objects.get(pk=app.pk).status


def test_counter_service_reviewed_and_approved_by_the_clerk(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app(status="paid")
    client = login_as(clerk)
    response = _act(client, app, "start_review")
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{app.reference}/"
    assert _status(app) == "in_review"
    _act(client, app, "approve", "ok")
    assert _status(app) == "approved"
    page = client.get(f"/applications/{app.reference}/").content.decode()
    assert "is now “Approved”" in page


def test_illegal_transition_is_a_clear_message_and_changes_nothing(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app()  # submitted: not paid yet
    client = login_as(clerk)
    response = _act(client, app, "approve")
    assert response.status_code == 302
    assert _status(app) == "submitted"
    page = client.get(response["Location"]).content.decode()
    assert "This application is “Submitted”: “Approve” is not possible now." in page
    assert app.events.count() == 1


def test_back_office_service_is_not_approved_by_a_clerk(
    login_as: LoginAs,
    clerk: User,
    officer: User,
    make_app: MakeApp,
    back_office_service: Service,
) -> None:
    app = make_app(svc=back_office_service, status="paid")
    clerk_client = login_as(clerk)
    response = _act(clerk_client, app, "start_review")
    assert response.status_code == 403
    assert "You may not “Start review” this application" in response.content.decode()
    assert _status(app) == "paid"
    officer_client = login_as(officer)
    _act(officer_client, app, "start_review")
    assert _status(app) == "in_review"
    assert _act(clerk_client, app, "approve").status_code == 403
    assert _status(app) == "in_review"
    _act(officer_client, app, "approve")
    assert _status(app) == "approved"


def test_clerk_of_another_center_cannot_act(
    login_as: LoginAs, other_clerk: User, make_app: MakeApp
) -> None:
    app = make_app(status="paid")
    assert _act(login_as(other_clerk), app, "start_review").status_code == 404
    assert _act(login_as(other_clerk), app, "cancel", "x").status_code == 404
    assert _status(app) == "paid"


def test_auditor_can_view_but_not_act(login_as: LoginAs, auditor: User, make_app: MakeApp) -> None:
    app = make_app(status="in_review")
    client = login_as(auditor)
    assert client.get(f"/applications/{app.reference}/").status_code == 200
    for action in ("approve", "return", "reject", "cancel"):
        response = _act(client, app, action, "x")
        assert response.status_code == 403
        assert "Your role does not allow this action." in response.content.decode()
    assert _status(app) == "in_review"


def test_cashier_cannot_review(login_as: LoginAs, cashier: User, make_app: MakeApp) -> None:
    app = make_app(status="paid")
    assert _act(login_as(cashier), app, "start_review").status_code == 403
    assert _status(app) == "paid"


def test_reject_is_for_officers_and_supervisors(
    login_as: LoginAs, clerk: User, supervisor: User, make_app: MakeApp
) -> None:
    app = make_app(status="in_review")
    assert _act(login_as(clerk), app, "reject", "no").status_code == 403
    assert _status(app) == "in_review"
    _act(login_as(supervisor), app, "reject", "الوثائق لا تثبت")
    assert _status(app) == "rejected"
    assert app.events.last().note == "الوثائق لا تثبت"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("action", "message"),
    [("return", "Say what the citizen must correct."), ("cancel", "Give the reason")],
)
def test_note_is_required_for_return_and_cancel(
    login_as: LoginAs, clerk: User, make_app: MakeApp, action: str, message: str
) -> None:
    app = make_app(status="in_review" if action == "return" else "submitted")
    before = _status(app)
    client = login_as(clerk)
    response = _act(client, app, action, "   ")
    assert response.status_code == 302
    assert message in client.get(response["Location"]).content.decode()
    assert _status(app) == before
    _act(client, app, action, "سبب")
    assert _status(app) in ("returned", "cancelled")


def test_unknown_action_is_404_and_get_is_refused(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app(status="paid")
    client = login_as(clerk)
    assert _act(client, app, "pay").status_code == 404  # payments has its own screen
    assert _act(client, app, "nonsense").status_code == 404
    assert client.get(f"/applications/{app.reference}/act/start_review/").status_code == 405
    assert _status(app) == "paid"


def test_action_may_return_to_a_safe_next_page(
    login_as: LoginAs, officer: User, make_app: MakeApp, back_office_service: Service
) -> None:
    app = make_app(svc=back_office_service, status="paid")
    client = login_as(officer)
    ok = client.post(
        f"/applications/{app.reference}/act/start_review/", {"next": "/applications/back-office/"}
    )
    assert ok["Location"] == "/applications/back-office/"


def test_returned_application_is_corrected_and_resubmitted(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app(status="in_review")
    client = login_as(clerk)
    _act(client, app, "return", "اكتب الجهة كاملة")
    page = client.get(f"/applications/{app.reference}/resubmit/")
    assert page.status_code == 200
    assert "اكتب الجهة كاملة" in page.content.decode()
    assert page.context["form"]["f_purpose"].value() == "وزارة الداخلية"
    bad = client.post(f"/applications/{app.reference}/resubmit/", {"f_purpose": ""})
    assert "This field is required." in bad.content.decode()
    assert _status(app) == "returned"
    client.post(
        f"/applications/{app.reference}/resubmit/",
        {"f_purpose": "وزارة الداخلية - مديرية الأحوال المدنية", "note": "صححت"},
    )
    fresh = Application.objects.get(pk=app.pk)
    assert fresh.status == "paid"
    assert fresh.field_values["purpose"] == "وزارة الداخلية - مديرية الأحوال المدنية"


def test_a_step_no_person_took_reads_system_in_the_page_language(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    from django.utils import translation

    app = make_app(status="paid")  # paid by a verified gateway notification: no person
    assert app.events.get(action="pay").actor_name == "system"  # stored as data
    client = login_as(clerk)
    english = client.get(f"/applications/{app.reference}/", headers={"Accept-Language": "en"})
    assert "<td>System (automatic)</td>" in english.content.decode()
    arabic = client.get(f"/applications/{app.reference}/", headers={"Accept-Language": "ar"})
    with translation.override("ar"):
        shown = translation.gettext("System (automatic)")
    assert shown != "System (automatic)" and f"<td>{shown}</td>" in arabic.content.decode()
    assert "<td>system</td>" not in arabic.content.decode()
