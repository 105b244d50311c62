"""Least privilege: what each role may see and do, per center (and per agency for officers)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import (
    can_view_application,
    may_take,
    require_center,
    require_role,
    require_transition,
    require_view_application,
    works_at,
)
from baladiya.applications import services
from baladiya.applications.models import Application
from baladiya.applications.workflow import TRANSITIONS, Status, transition
from baladiya.catalog.models import Agency, Service
from baladiya.centers.models import Center
from baladiya.core.errors import NotAllowed
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db

ALL = frozenset(TRANSITIONS)
REVIEW = frozenset({"start_review", "approve", "return"})
MONEY = frozenset({"pay", "cancel_with_refund"})
SYSTEM = frozenset({"deliver", "return_to_sender"})  # the post's callback only

MakeApp = Callable[..., Application]


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Argon2 is deliberately slow; these tests create many users and check no password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def justice() -> Agency:
    return Agency.objects.create(code="justice", name_ar="العدل", name_en="Justice")


@pytest.fixture
def justice_service(justice: Agency) -> Service:
    return Service.objects.create(
        code="criminal-record",
        agency=justice,
        name_ar="لا حكم عليه",
        name_en="Criminal-record extract",
        approval=Service.Approval.COUNTER,
        delivery_modes=["pickup", "post"],
        document_template="certificate.typ",
        document_title_ar="لا حكم عليه",
        document_title_en="Criminal-record extract",
    )


@pytest.fixture
def make_app(citizen: Citizen, service: Service) -> MakeApp:
    counter = itertools.count(1)

    def make(
        center: Center,
        pickup: Center | None = None,
        svc: Service | None = None,
        status: str = Status.SUBMITTED,
    ) -> Application:
        return Application.objects.create(
            reference=f"{center.code}-26-{next(counter):06d}",
            service=svc or service,
            applicant=citizen,
            center=center,
            pickup_center=pickup,
            delivery_mode="pickup" if pickup else "post",
            fee_amount=5000,
            sla_due=dt.date(2026, 1, 10),
            status=status,
        )

    return make


def allowed(user: Any, app: Application) -> set[str]:
    return {name for name, t in TRANSITIONS.items() if may_take(user, app, t)}


# ---------------------------------------------------------------- clerk


def test_clerk_works_only_at_own_center(
    clerk: User, make_app: MakeApp, center: Center, other_center: Center
) -> None:
    own = make_app(center, pickup=center)
    assert allowed(clerk, own) == {
        "start_review",
        "approve",
        "return",
        "resubmit",
        "issue",
        "route_to_pickup",
        "dispatch",
        "hand_over",
        "cancel",
    }
    assert allowed(clerk, make_app(other_center, pickup=other_center)) == set()


def test_clerk_hands_over_only_at_the_pickup_center(
    clerk: User, make_app: MakeApp, center: Center, other_center: Center
) -> None:
    submitted_here_picked_up_there = make_app(center, pickup=other_center)
    assert "hand_over" not in allowed(clerk, submitted_here_picked_up_there)
    submitted_there_picked_up_here = make_app(other_center, pickup=center)
    assert allowed(clerk, submitted_there_picked_up_here) == {"hand_over"}


def test_clerk_approves_only_counter_services(
    clerk: User, make_app: MakeApp, center: Center, back_office_service: Service
) -> None:
    back_office = make_app(center, pickup=center, svc=back_office_service)
    assert not allowed(clerk, back_office) & REVIEW
    assert {"issue", "route_to_pickup", "cancel", "resubmit"} <= allowed(clerk, back_office)


def test_clerk_never_takes_money_or_rejects(clerk: User, make_app: MakeApp, center: Center) -> None:
    assert not allowed(clerk, make_app(center, pickup=center)) & (MONEY | {"reject"})


def test_clerk_without_a_center_can_take_nothing(
    make_user: Callable[..., User], make_app: MakeApp, center: Center
) -> None:
    floating = make_user("floating", roles.CLERK)
    assert allowed(floating, make_app(center, pickup=center)) == set()
    assert allowed(floating, make_app(center)) == set()  # by post: no pickup center


# ---------------------------------------------------------------- cashier


def test_cashier_only_pays_and_refunds_at_own_center(
    cashier: User, make_app: MakeApp, center: Center, other_center: Center
) -> None:
    assert allowed(cashier, make_app(center, pickup=center)) == MONEY
    assert allowed(cashier, make_app(other_center, pickup=center)) == set()
    assert allowed(cashier, make_app(other_center, pickup=other_center)) == set()


def test_other_centers_cashier_cannot_take_our_money(
    other_cashier: User, make_app: MakeApp, center: Center
) -> None:
    app = make_app(center, pickup=center)
    with pytest.raises(NotAllowed) as info:
        require_transition(other_cashier, app, transition("pay"))
    assert info.value.status == 403


# ---------------------------------------------------------------- supervisor


def test_supervisor_limited_to_own_center(
    supervisor: User, make_app: MakeApp, center: Center, other_center: Center
) -> None:
    mine = {"start_review", "approve", "return", "reject", "cancel", "cancel_with_refund"}
    assert allowed(supervisor, make_app(center)) == mine
    # Picked up here, taken elsewhere: the pickup center reads it but does not decide on it.
    assert allowed(supervisor, make_app(other_center, pickup=center)) == set()
    assert allowed(supervisor, make_app(other_center, pickup=other_center)) == set()
    assert allowed(supervisor, make_app(other_center)) == set()


def test_network_supervisor_everywhere(
    make_user: Callable[..., User], make_app: MakeApp, other_center: Center
) -> None:
    network = make_user("network", roles.SUPERVISOR)
    assert allowed(network, make_app(other_center)) == {
        "start_review",
        "approve",
        "return",
        "reject",
        "cancel",
        "cancel_with_refund",
    }


# ---------------------------------------------------------------- officer


def test_officer_limited_by_agency(
    make_user: Callable[..., User],
    make_app: MakeApp,
    agency: Agency,
    justice_service: Service,
    center: Center,
    other_center: Center,
    back_office_service: Service,
) -> None:
    civil_officer = make_user("civil-officer", roles.OFFICER, agency=agency)
    work = {"start_review", "approve", "return", "reject", "issue", "route_to_pickup"}
    # Any center: officers work the back office for the whole network.
    # The back office posts what it fulfils; a counter service's document is posted by its center.
    back_office = make_app(other_center, svc=back_office_service)
    assert allowed(civil_officer, back_office) == work | {"dispatch"}
    assert allowed(civil_officer, make_app(center, pickup=center)) == work
    assert allowed(civil_officer, make_app(center, svc=justice_service)) == set()


def test_officer_without_agency_works_every_agency(
    officer: User, make_app: MakeApp, center: Center, justice_service: Service
) -> None:
    assert "approve" in allowed(officer, make_app(center, svc=justice_service))
    assert not allowed(officer, make_app(center)) & (MONEY | {"hand_over", "cancel"})


# ---------------------------------------------------------------- auditor, admin


def test_auditor_views_everything_but_takes_nothing(
    auditor: User, make_app: MakeApp, center: Center, other_center: Center
) -> None:
    for app in (make_app(center), make_app(other_center, pickup=other_center)):
        assert can_view_application(auditor, app)
        assert allowed(auditor, app) == set()


def test_admin_takes_review_transitions_but_not_money(
    admin_user: User, make_app: MakeApp, other_center: Center
) -> None:
    app = make_app(other_center, pickup=other_center)
    assert allowed(admin_user, app) == ALL - MONEY - SYSTEM
    assert can_view_application(admin_user, app)


def test_superuser_flag_alone_makes_an_admin(
    make_user: Callable[..., User], make_app: MakeApp, center: Center
) -> None:
    root = make_user("root", is_superuser=True)
    assert root.has_role(roles.ADMIN)
    assert allowed(root, make_app(center)) == ALL - MONEY - SYSTEM


# ---------------------------------------------------------------- nobody


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_inactive_user_can_do_nothing(
    role: str, make_user: Callable[..., User], make_app: MakeApp, center: Center, agency: Agency
) -> None:
    user = make_user(
        f"gone-{role}", role, center=center, agency=agency, is_active=False, is_superuser=True
    )
    app = make_app(center, pickup=center)
    assert user.role_codes() == frozenset()
    assert allowed(user, app) == set()
    assert not can_view_application(user, app)
    assert not services.visible_to(user).exists()
    with pytest.raises(NotAllowed):
        require_role(user, role)


def test_anonymous_can_do_nothing(make_app: MakeApp, center: Center) -> None:
    app = make_app(center, pickup=center)
    anonymous = AnonymousUser()
    assert allowed(anonymous, app) == set()
    assert allowed(None, app) == set()
    assert not can_view_application(anonymous, app)
    with pytest.raises(NotAllowed):
        require_view_application(anonymous, app)
    with pytest.raises(NotAllowed):
        require_role(anonymous, roles.CLERK)
    with pytest.raises(NotAllowed):
        require_center(anonymous, center)


# ---------------------------------------------------------------- require_* helpers


def test_require_role(clerk: User, cashier: User) -> None:
    assert require_role(clerk, roles.CLERK, roles.SUPERVISOR) is clerk
    with pytest.raises(NotAllowed):
        require_role(cashier, roles.CLERK)


def test_works_at_and_require_center(
    clerk: User, admin_user: User, center: Center, other_center: Center
) -> None:
    assert works_at(clerk, center)
    assert not works_at(clerk, other_center)
    assert not works_at(clerk, None)
    assert works_at(admin_user, other_center)
    assert not works_at(admin_user, None)
    assert require_center(clerk, center) is clerk
    with pytest.raises(NotAllowed) as info:
        require_center(clerk, other_center)
    assert info.value.code == "forbidden"


def test_refused_transition_changes_nothing(
    other_clerk: User, clerk: User, make_app: MakeApp, center: Center
) -> None:
    app = make_app(center, pickup=center, status=Status.IN_REVIEW)
    with pytest.raises(NotAllowed):
        services.approve(app, other_clerk)
    app.refresh_from_db()
    assert app.status == Status.IN_REVIEW
    assert not app.events.exists()
    assert not AuditEvent.objects.exists()
    services.approve(app, clerk)  # the clerk of the center may
    app.refresh_from_db()
    assert app.status == Status.APPROVED


# ---------------------------------------------------------------- visible_to == can_view


@dataclass(frozen=True)
class Staff:
    roles: tuple[str, ...]
    center: str | None = None  # "own" (C03), "other" (C05) or None
    agency: str | None = None  # "civil", "justice" or None
    active: bool = True


STAFF = [
    *(
        Staff((role,), center=c, agency=a)
        for role in roles.ALL_ROLES
        for c in ("own", "other", None)
        for a in ("civil", None)
    ),
    Staff((roles.CLERK, roles.OFFICER), center="own", agency="justice"),
    Staff((roles.CASHIER, roles.SUPERVISOR), center="other"),
    Staff((roles.CLERK,), center="own", active=False),
    Staff((roles.SUPERVISOR,), center=None, active=False),
]


def _world(
    make_app: MakeApp,
    center: Center,
    other_center: Center,
    service: Service,
    justice_service: Service,
) -> list[Application]:
    third = Center.objects.create(code="C07", name_ar="مركز", name_en="C07", kind="neighbourhood")
    apps = []
    for where, pickup, svc in itertools.product(
        (center, other_center, third),
        (center, other_center, third, None),
        (service, justice_service),
    ):
        apps.append(make_app(where, pickup=pickup, svc=svc))
    return apps


@pytest.mark.parametrize("spec", STAFF, ids=str)
def test_visible_to_matches_can_view_application(
    spec: Staff,
    make_user: Callable[..., User],
    make_app: MakeApp,
    center: Center,
    other_center: Center,
    agency: Agency,
    justice: Agency,
    service: Service,
    justice_service: Service,
    request: pytest.FixtureRequest,
) -> None:
    apps = _world(make_app, center, other_center, service, justice_service)
    user = make_user(
        "staff",
        *spec.roles,
        center={"own": center, "other": other_center, None: None}[spec.center],
        agency={"civil": agency, "justice": justice, None: None}[spec.agency],
        is_active=spec.active,
    )
    expected = {app.pk for app in apps if can_view_application(user, app)}
    assert set(services.visible_to(user).values_list("pk", flat=True)) == expected


def test_visible_to_examples(
    clerk: User,
    supervisor: User,
    make_app: MakeApp,
    center: Center,
    other_center: Center,
) -> None:
    here = make_app(center)
    picked_up_here = make_app(other_center, pickup=center)
    elsewhere = make_app(other_center, pickup=other_center)
    for user in (clerk, supervisor):
        assert set(services.visible_to(user)) == {here, picked_up_here}
        assert not can_view_application(user, elsewhere)
        with pytest.raises(NotAllowed):
            require_view_application(user, elsewhere)


def test_network_supervisor_and_all_agency_officer_list_everything(
    make_user: Callable[..., User], officer: User, make_app: MakeApp, other_center: Center
) -> None:
    app = make_app(other_center, pickup=other_center)
    network = make_user("network", roles.SUPERVISOR)
    assert can_view_application(network, app) and can_view_application(officer, app)
    assert list(services.visible_to(network)) == [app]
    assert list(services.visible_to(officer)) == [app]


def test_clerk_without_a_center_sees_no_application(
    make_user: Callable[..., User], make_app: MakeApp, center: Center
) -> None:
    floating = make_user("floating", roles.CLERK)
    assert not can_view_application(floating, make_app(center))  # sent by post
