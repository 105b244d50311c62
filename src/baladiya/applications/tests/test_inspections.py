"""Field inspections and service rules (`applications.hooks`), on a plain counter service:
nothing here is about water. A service that needs a visit is approved only after a passed
one; its rules run inside the step's transaction (a refusal changes nothing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.applications import hooks, inspections
from baladiya.applications import services as apps
from baladiya.applications.hooks import ServiceHooks
from baladiya.applications.models import Application, InspectionVisit
from baladiya.applications.tests.conftest import MakeApp
from baladiya.applications.workflow import Status
from baladiya.catalog.models import Service
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def rules(monkeypatch: pytest.MonkeyPatch, service: Service) -> dict[str, Any]:
    """Register hooks for the `service` fixture for one test; returns the hooks' call log
    and a switch to make them refuse."""
    log: dict[str, Any] = {"calls": [], "refuse": set()}

    def note(name: str) -> None:
        log["calls"].append(name)
        if name in log["refuse"]:
            raise DomainError(f"refused by {name}", code=name)

    def approved(app: Application, actor: User | None) -> None:
        # A side effect in the step's transaction (kept only if the step succeeds).
        Application.objects.filter(pk=app.pk).update(note="subscription made")
        note("on_approved")

    monkeypatch.setitem(
        hooks._registry,
        service.code,
        ServiceHooks(
            needs_inspection=True,
            clean_submission=lambda svc, who, fields: note("clean_submission") or fields,
            check_before_approve=lambda app: note("check_before_approve"),
            on_approved=approved,
            check_before_issue=lambda app: note("check_before_issue"),
            document_rows=lambda app: [
                {"name": "x", "label_ar": "رقم", "label_en": "Number", "value": "N-1", "ltr": True}
            ],
        ),
    )
    return log


def test_registry_accepts_the_same_hooks_twice_and_refuses_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hooks, "_registry", {})
    one = ServiceHooks(needs_inspection=True)
    hooks.register("svc", one)
    hooks.register("svc", ServiceHooks(needs_inspection=True))  # equal: an app ready() again
    with pytest.raises(ImproperlyConfigured):
        hooks.register("svc", ServiceHooks())
    assert hooks.hooks_for("svc") == one and hooks.has_rules("svc")
    assert hooks.hooks_for("other") is hooks.NO_HOOKS and not hooks.has_rules("other")


def test_the_water_services_have_their_rules() -> None:
    for code in ("water-new-meter", "water-meter-transfer", "water-clearance"):
        assert hooks.has_rules(code)
    assert hooks.hooks_for("water-new-meter").needs_inspection
    assert not hooks.hooks_for("civil-individual-extract").needs_inspection


def test_approval_waits_for_a_passed_visit(
    rules: dict[str, Any], make_app: MakeApp, clerk: User
) -> None:
    app = make_app(status="in_review")
    with pytest.raises(DomainError) as missing:
        apps.approve(app, clerk)
    assert missing.value.code == "inspection_missing"
    assert "check_before_approve" not in rules["calls"]  # the generic rule comes first
    # A counter service: its reviewer is the clerk of its center, so the clerk inspects.
    visit = inspections.schedule_inspection(app, clerk, TODAY, inspector_name="مراقب فني")
    inspections.record_inspection(visit, clerk, "passed", meter_number="ignored")
    visit.refresh_from_db()
    assert visit.meter_number == ""  # the service asked for none
    apps.approve(app, clerk)
    assert rules["calls"][-2:] == ["check_before_approve", "on_approved"]
    app.refresh_from_db()
    assert app.status == Status.APPROVED and app.note == "subscription made"


def test_a_refusing_rule_changes_nothing(
    rules: dict[str, Any], make_app: MakeApp, clerk: User
) -> None:
    app = make_app(status="in_review")
    visit = inspections.schedule_inspection(app, clerk, TODAY, inspector_name="س")
    inspections.record_inspection(visit, clerk, "passed")
    rules["refuse"].add("on_approved")  # after the status change: rolled back with it
    with pytest.raises(DomainError):
        apps.approve(app, clerk)
    app.refresh_from_db()
    assert app.status == Status.IN_REVIEW and app.note == ""
    assert not app.events.filter(action="approve").exists()
    assert not AuditEvent.objects.filter(action="application.approve").exists()

    rules["refuse"] = set()
    apps.approve(app, clerk)
    rules["refuse"].add("check_before_issue")
    with pytest.raises(DomainError):
        issue_document(app, clerk)
    app.refresh_from_db()
    assert app.status == Status.APPROVED and not IssuedDocument.objects.exists()
    rules["refuse"] = set()
    doc = issue_document(app, clerk)
    assert doc.content["fields"][-1]["value"] == "N-1"  # the service's extra row is printed


def test_submission_rules_refuse_before_anything_is_written(
    rules: dict[str, Any], service: Service, citizen: Citizen, clerk: User
) -> None:
    rules["refuse"].add("clean_submission")
    with pytest.raises(DomainError):
        apps.submit_application(
            clerk,
            apps.Submission(
                service=service,
                applicant=citizen,
                center=clerk.center,  # type: ignore[arg-type]
                fields={"purpose": "مصرف"},
                pickup_center=clerk.center,
            ),
        )
    assert not Application.objects.exists()


def test_inspections_follow_roles_and_centers(
    rules: dict[str, Any],
    make_app: MakeApp,
    clerk: User,
    cashier: User,
    other_clerk: User,
    auditor: User,
    supervisor: User,
) -> None:
    app = make_app(status="in_review")
    for who in (cashier, other_clerk, auditor):
        with pytest.raises(NotAllowed):
            inspections.schedule_inspection(app, who, TODAY, inspector_name="س")
    visit = inspections.schedule_inspection(app, supervisor, TODAY, inspector=clerk)
    assert visit.inspector == clerk and visit.inspector_name == clerk.display_name()
    for who in (cashier, other_clerk, auditor):
        with pytest.raises(NotAllowed):
            inspections.record_inspection(visit, who, "failed", "x")
    visit.refresh_from_db()
    assert visit.result == InspectionVisit.Result.PENDING
    assert AuditEvent.objects.filter(action="application.inspection_scheduled").count() == 1


def test_a_service_without_visits_refuses_them_and_is_approved_as_before(
    make_app: MakeApp, clerk: User
) -> None:
    app = make_app(status="in_review")
    with pytest.raises(DomainError) as none:
        inspections.schedule_inspection(app, clerk, TODAY, inspector_name="س")
    assert none.value.code == "no_inspection"
    apps.approve(app, clerk)
    assert app.status == Status.APPROVED


def test_one_waiting_visit_per_application_even_past_the_service_check(
    rules: dict[str, Any], make_app: MakeApp, clerk: User
) -> None:
    """The database refuses a second waiting visit (two desks racing past the check)."""
    app = make_app(status="in_review")
    inspections.schedule_inspection(app, clerk, TODAY, inspector_name="س")
    with pytest.raises(Conflict):
        inspections.schedule_inspection(
            app, clerk, TODAY + dt.timedelta(days=1), inspector_name="ع"
        )
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        InspectionVisit.objects.create(
            application=app, scheduled_for=TODAY, inspector_name="ع", scheduled_by=clerk
        )
    assert InspectionVisit.objects.count() == 1
