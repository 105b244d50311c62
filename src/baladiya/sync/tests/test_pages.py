"""The directorate's sync pages: enrolled nodes (revoking one), the conflict list and a
conflict's detail (resolving it). Who may read, who may act, and that a refused or bad
request changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.catalog.models import Agency, Service
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.ids import uuid7
from baladiya.core.models import AuditEvent
from baladiya.core.testing import logged_in, race
from baladiya.documents.models import SigningKey
from baladiya.sync import central, registry, services
from baladiya.sync.models import CenterNode, SyncConflict
from baladiya.sync.tests.nodes import FakeNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def node(center: Center, admin_user: User) -> FakeNode:
    fake = FakeNode(Client(), center.code)
    response = fake.enrol(central.create_enrolment_code(center.code, admin_user))
    assert response.status_code == 200, response.content
    return fake


@pytest.fixture
def agency_officer(make_user: Callable[..., User]) -> User:
    civil = Agency.objects.create(code="civil9", name_ar="الشؤون المدنية", name_en="Civil affairs")
    return make_user("officer.civil", roles.OFFICER, agency=civil)


def _application(
    service: Service, citizen: Citizen, center: Center, clerk: User, **extra: Any
) -> Application:
    fields: dict[str, Any] = {
        "id": uuid7(),
        "reference": "C00-26-000001",
        "service": service,
        "applicant": citizen,
        "center": center,
        "status": "ready_for_pickup",
        "fee_amount": 500000,
        "sla_due": dt.date.today() + dt.timedelta(days=3),
        "delivery_mode": "pickup",
        "pickup_center": center,
        "created_by": clerk,
        **extra,
    }
    return Application(**fields)


def _conflict(center: str = "C03", seq: int = 7, **extra: Any) -> SyncConflict:
    fields: dict[str, Any] = {
        "center": center,
        "seq": seq,
        "model": "applications.application",
        "object_id": str(uuid7()),
        "reason": "The application is no longer ready for pickup here: not applied.",
        "pushed": {"model": "applications.application", "fields": {"status": "handed_over"}},
        **extra,
    }
    return SyncConflict.objects.create(**fields)


def _resolved_events() -> int:
    return AuditEvent.objects.filter(action="sync.conflict_resolved").count()


# ---------------------------------------------------------------- who may see and do what


@pytest.mark.parametrize("who", ["clerk", "cashier", "supervisor", "agency_officer"])
def test_center_staff_and_agency_officers_get_the_403_page(
    who: str, request: pytest.FixtureRequest, node: FakeNode
) -> None:
    user = request.getfixturevalue(who)
    conflict = _conflict()
    client = logged_in(user)
    for url in (
        reverse("sync:nodes"),
        reverse("sync:conflicts"),
        reverse("sync:conflict", args=[conflict.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert "Sync is for the informatics directorate and auditors." in response.content.decode()
    refused = client.post(reverse("sync:conflict", args=[conflict.pk]), {"resolution": "done"})
    assert refused.status_code == 403
    assert client.post(reverse("sync:nodes"), {"center": "C03", "reason": "x"}).status_code == 403
    conflict.refresh_from_db()
    assert conflict.state == "open"
    assert CenterNode.objects.get().revoked_at is None
    home = client.get(reverse("centers:coverage")).content.decode()
    assert reverse("sync:conflicts") not in home  # no nav link either


def test_anonymous_visitors_are_sent_to_the_login_page() -> None:
    response = Client().get(reverse("sync:conflicts"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_auditor_reads_every_page_but_resolves_and_revokes_nothing(
    auditor: User, node: FakeNode
) -> None:
    conflict = _conflict()
    client = logged_in(auditor)
    nodes = client.get(reverse("sync:nodes"))
    assert nodes.status_code == 200
    assert node.key_id in nodes.content.decode()
    assert 'name="reason"' not in nodes.content.decode()  # no revoke form
    listing = client.get(reverse("sync:conflicts")).content.decode()
    assert reverse("sync:conflict", args=[conflict.pk]) in listing
    assert reverse("sync:conflicts") in listing  # the nav link
    detail = client.get(reverse("sync:conflict", args=[conflict.pk]))
    assert detail.status_code == 200 and 'name="resolution"' not in detail.content.decode()

    resolve = client.post(reverse("sync:conflict", args=[conflict.pk]), {"resolution": "ok"})
    assert resolve.status_code == 403
    revoke = client.post(reverse("sync:nodes"), {"center": "C03", "reason": "PC stolen"})
    assert revoke.status_code == 403
    conflict.refresh_from_db()
    assert (conflict.state, conflict.resolution) == ("open", "")
    assert CenterNode.objects.get().revoked_at is None
    assert _resolved_events() == 0
    with pytest.raises(NotAllowed):
        services.resolve_conflict(conflict, auditor, "ok")


def test_an_unknown_conflict_is_404(officer: User) -> None:
    response = logged_in(officer).get(reverse("sync:conflict", args=[uuid7()]))
    assert response.status_code == 404


# ---------------------------------------------------------------- resolving


@pytest.mark.parametrize("who", ["officer", "admin_user"])
def test_the_directorate_resolves_a_conflict(who: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(who)
    conflict = _conflict()
    url = reverse("sync:conflict", args=[conflict.pk])
    page = logged_in(user).get(url).content.decode()
    assert 'name="resolution"' in page and "csrfmiddlewaretoken" in page

    response = logged_in(user).post(
        url, {"resolution": "  Called C03: the document was taken back.  "}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The conflict is resolved." in html
    assert "Called C03: the document was taken back." in html
    assert 'name="resolution"' not in html  # nothing left to resolve
    conflict.refresh_from_db()
    assert conflict.state == "resolved"
    assert conflict.resolved_by == user
    assert conflict.resolution == "Called C03: the document was taken back."
    event = AuditEvent.objects.get(action="sync.conflict_resolved")
    assert event.actor == user.username and event.object_id == str(conflict.pk)
    assert event.center == "C03" and event.data["seq"] == 7
    assert event.data["resolution"] == conflict.resolution
    # Gone from the open list, listed among the resolved ones.
    open_list = logged_in(user).get(reverse("sync:conflicts")).content.decode()
    assert url not in open_list
    resolved = logged_in(user).get(reverse("sync:conflicts"), {"state": "resolved"})
    assert url in resolved.content.decode()


def test_an_empty_resolution_is_refused_in_arabic_and_changes_nothing(officer: User) -> None:
    conflict = _conflict()
    response = logged_in(officer, "ar").post(
        reverse("sync:conflict", args=[conflict.pk]), {"resolution": "   "}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'dir="rtl"' in html
    assert "اكتب ما الذي تم بشأن هذا التعارض." in html
    conflict.refresh_from_db()
    assert (conflict.state, conflict.resolution, conflict.resolved_by) == ("open", "", None)
    assert _resolved_events() == 0


def test_a_too_long_resolution_is_refused(officer: User) -> None:
    conflict = _conflict()
    response = logged_in(officer).post(
        reverse("sync:conflict", args=[conflict.pk]), {"resolution": "x" * 301}
    )
    assert response.status_code == 200 and "at most 300 characters" in response.content.decode()
    conflict.refresh_from_db()
    assert conflict.state == "open" and _resolved_events() == 0


def test_resolving_twice_is_a_clear_error_and_keeps_the_first_resolution(
    officer: User, admin_user: User
) -> None:
    conflict = _conflict()
    services.resolve_conflict(conflict, officer, "Refund cancelled.")
    # A second person had the page open and submits too.
    response = logged_in(admin_user).post(
        reverse("sync:conflict", args=[conflict.pk]), {"resolution": "Something else."}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This conflict is already resolved; nothing was changed." in html
    assert "Refund cancelled." in html
    with pytest.raises(Conflict):
        services.resolve_conflict(conflict, admin_user, "Again.")
    conflict.refresh_from_db()
    assert (conflict.resolution, conflict.resolved_by) == ("Refund cancelled.", officer)
    assert _resolved_events() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel writers need PostgreSQL")
def test_four_people_resolving_at_once_one_wins(officer: User) -> None:
    conflict = _conflict()
    results, errors = race(lambda: services.resolve_conflict(conflict, officer, "Done."))
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, Conflict) for e in errors)
    assert _resolved_events() == 1
    assert verify_chain() == []


def test_the_service_refuses_an_empty_resolution(officer: User) -> None:
    conflict = _conflict()
    with pytest.raises(DomainError, match="Write what was done"):
        services.resolve_conflict(conflict, officer, "")
    conflict.refresh_from_db()
    assert conflict.state == "open"


# ---------------------------------------------------------------- what the detail shows


def test_detail_compares_what_the_center_sent_with_the_central_record(
    node: FakeNode,
    service: Service,
    citizen: Citizen,
    center: Center,
    electronic_center: Center,
    officer: User,
) -> None:
    """The case of decision 0009: handed over at the center, cancelled centrally meanwhile."""
    cancelled = _application(
        service, citizen, electronic_center, officer, status="cancelled", pickup_center=center
    )
    cancelled.save()
    cancelled.status = "handed_over"
    cancelled.field_values = {"purpose": "<script>alert(1)</script>"}
    assert node.push([node.event(cancelled)]).json()["conflicts"] == 1
    conflict = SyncConflict.objects.get()

    html = logged_in(officer).get(reverse("sync:conflict", args=[conflict.pk])).content.decode()
    central_part = html[html.index('id="central"') : html.index('id="sent"')]
    status_row = central_part[central_part.index('<bdi dir="ltr">status</bdi>') :]
    status_row = status_row[: status_row.index("</tr>")]
    assert "differs" in status_row
    assert "cancelled" in status_row and "handed_over" in status_row
    sent = html[html.index('id="sent"') :]
    assert "<pre" in sent and '"status": "handed_over"' in sent.replace("&quot;", '"')
    assert "<script>alert(1)</script>" not in html  # escaped, never run
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sent
    assert "<script" not in html.split("<main", 1)[1]


def test_detail_of_a_record_central_does_not_have_or_cannot_name(officer: User) -> None:
    for conflict in (
        _conflict(),  # an application central has never seen
        _conflict(seq=8, model="no.such_model", object_id="x"),
        _conflict(seq=9, model="applications.application", object_id="not-a-uuid"),
    ):
        response = logged_in(officer).get(reverse("sync:conflict", args=[conflict.pk]))
        assert response.status_code == 200
        assert "The central node has no such record." in response.content.decode()


def test_secrets_and_file_contents_are_not_shown(officer: User, admin_user: User) -> None:
    """A center pushed a staff account it may not change: its password hash is not shown."""
    pushed = registry.serialize(admin_user)
    pushed["files"] = {"file": "QUJD" * 5000}
    conflict = _conflict(
        model="accounts.user", object_id=str(admin_user.pk), reason="No.", pushed=pushed
    )
    html = logged_in(officer).get(reverse("sync:conflict", args=[conflict.pk])).content.decode()
    assert admin_user.password not in html
    assert "QUJDQUJD" not in html and "20000 characters of base64" in html
    assert '<bdi dir="ltr">username</bdi>' in html  # the central row is shown, without it


# ---------------------------------------------------------------- nodes


def test_nodes_page_shows_each_node_its_progress_and_open_conflicts(
    officer: User, node: FakeNode
) -> None:
    now = timezone.now()
    CenterNode.objects.update(last_seq=1234, last_push_at=now, last_pull_at=now)
    _conflict(seq=1)
    _conflict(seq=2)
    _conflict(seq=3, state="resolved", resolution="done")
    html = logged_in(officer).get(reverse("sync:nodes")).content.decode()
    row = html[html.index('id="node-C03"') :]
    row = row[: row.index("</tr>")]
    assert node.key_id in row and ">1234<" in row
    assert reverse("sync:conflicts") + "?center=C03" in row and ">2<" in row
    assert 'name="reason"' not in row  # an officer does not revoke nodes
    assert "baladiya center enrollment-code C03" in html
    assert "baladiya center enroll --central URL --code CODE" in html
    assert "docs/center-node-guide.md" in html


def test_nodes_page_is_arabic_by_default(auditor: User, node: FakeNode) -> None:
    html = logged_in(auditor, "ar").get(reverse("sync:nodes")).content.decode()
    assert 'dir="rtl"' in html and "عقد المراكز" in html


def test_an_administrator_revokes_a_node_from_the_page(admin_user: User, node: FakeNode) -> None:
    client = logged_in(admin_user)
    page = client.get(reverse("sync:nodes")).content.decode()
    assert 'name="reason"' in page and "csrfmiddlewaretoken" in page
    response = client.post(
        reverse("sync:nodes"), {"center": "C03", "reason": "PC stolen"}, follow=True
    )
    assert response.status_code == 200
    assert "The node of C03 is revoked" in response.content.decode()
    revoked = CenterNode.objects.get()
    assert revoked.revoked_at is not None and revoked.revoked_reason == "PC stolen"
    assert SigningKey.objects.get(key_id=node.key_id).revoked_at is not None
    assert AuditEvent.objects.filter(action="sync.node_revoked", actor="admin").count() == 1
    assert node.push([]).status_code == 403  # its requests are refused from now on

    again = client.post(reverse("sync:nodes"), {"center": "C03", "reason": "twice"})
    assert "This node is already revoked." in again.content.decode()
    assert CenterNode.objects.get().revoked_reason == "PC stolen"


def test_revoking_needs_a_reason_in_the_users_language(admin_user: User, node: FakeNode) -> None:
    response = logged_in(admin_user, "ar").post(
        reverse("sync:nodes"), {"center": "C03", "reason": "  "}
    )
    assert response.status_code == 200
    assert "اذكر سبب إلغاء العقدة." in response.content.decode()
    assert CenterNode.objects.get().revoked_at is None
    assert not AuditEvent.objects.filter(action="sync.node_revoked").exists()
    unknown = logged_in(admin_user).post(reverse("sync:nodes"), {"center": "C09", "reason": "x"})
    assert "Center C09 has no enrolled node." in unknown.content.decode()


def test_a_directorate_officer_may_not_revoke_a_node(officer: User, node: FakeNode) -> None:
    response = logged_in(officer).post(
        reverse("sync:nodes"), {"center": "C03", "reason": "PC stolen"}
    )
    assert response.status_code == 403
    assert "Only an administrator may revoke a center node." in response.content.decode()
    assert CenterNode.objects.get().revoked_at is None


# ---------------------------------------------------------------- list filters


def test_conflict_list_filters_by_state_and_center(officer: User) -> None:
    c03_open = _conflict("C03", 1)
    c05_open = _conflict("C05", 1)
    c03_done = _conflict("C03", 2, state="resolved", resolution="done")
    client = logged_in(officer)

    def listed(**params: str) -> set[Any]:
        html = client.get(reverse("sync:conflicts"), params).content.decode()
        return {
            c.pk
            for c in (c03_open, c05_open, c03_done)
            if reverse("sync:conflict", args=[c.pk]) in html
        }

    assert listed() == {c03_open.pk, c05_open.pk}  # open ones by default
    assert listed(state="resolved") == {c03_done.pk}
    assert listed(state="all") == {c03_open.pk, c05_open.pk, c03_done.pk}
    assert listed(state="all", center="C03") == {c03_open.pk, c03_done.pk}
    assert listed(center="C05") == {c05_open.pk}
    # A value that is not offered is ignored, never an error page.
    assert listed(state="bogus", center="C99") == {c03_open.pk, c05_open.pk}
    html = client.get(reverse("sync:conflicts")).content.decode()
    assert "applications.application" in html and "not applied" in html
