"""Least privilege: every check is per role *and* per center (and per agency for officers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.core.errors import NotAllowed

if TYPE_CHECKING:
    from baladiya.accounts.models import Citizen, User
    from baladiya.applications.models import Application
    from baladiya.applications.workflow import Transition
    from baladiya.centers.models import Center


def _staff(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user  # type: ignore[no-any-return]


def require_role(user: Any, *codes: str) -> User:
    staff = _staff(user)
    if staff is None or not staff.has_role(*codes):
        raise NotAllowed(_("Your role does not allow this action."))
    return staff


def works_at(user: User, center: Center | None) -> bool:
    """Center-bound roles act only at their own center; admins everywhere."""
    if center is None:
        return False
    if user.has_role(roles.ADMIN):
        return True
    return user.center_id is not None and user.center_id == center.pk


def require_center(user: Any, center: Center | None) -> User:
    staff = _staff(user)
    if staff is None or not works_at(staff, center):
        raise NotAllowed(_("This record belongs to another center."))
    return staff


def is_citizen_account(user: Any) -> bool:
    """A citizen portal account: logged in with a one-time code; no role, no admin flag and
    no password, so no staff screen or service accepts it (they all check roles)."""
    account = _staff(user)
    if account is None or not account.is_active:
        return False
    return not (
        account.is_staff
        or account.is_superuser
        or account.has_usable_password()
        or account.role_codes()
    )


def citizen_of(user: Any) -> Citizen | None:
    """The citizen record of a citizen account (None: staff, anonymous, profile incomplete)."""
    if not is_citizen_account(user):
        return None
    citizen: Citizen | None = user.citizen
    return citizen


def can_view_application(user: Any, app: Application) -> bool:
    """Staff by role and center (`staff_can_view_application`); a citizen only their own."""
    if staff_can_view_application(user, app):
        return True
    citizen = citizen_of(user)
    return citizen is not None and citizen.pk == app.applicant_id


def staff_can_view_application(user: Any, app: Application) -> bool:
    """The staff rule alone: staff screens use this, so a citizen account never gets in."""
    staff = _staff(user)
    if staff is None:
        return False
    if staff.has_role(roles.ADMIN, roles.AUDITOR):
        return True
    if staff.has_role(roles.OFFICER) and (
        staff.agency_id is None or staff.agency_id == app.service.agency_id
    ):
        return True
    if staff.has_role(roles.SUPERVISOR) and (
        staff.center_id is None or staff.center_id in (app.center_id, app.pickup_center_id)
    ):
        return True
    if (
        staff.has_role(roles.CLERK, roles.CASHIER)
        and staff.center_id is not None  # else `None in (center, None)` for a postal one
        and staff.center_id in (app.center_id, app.pickup_center_id)
    ):
        return True
    return False


def require_view_application(user: Any, app: Application) -> None:
    if not can_view_application(user, app):
        raise NotAllowed(_("You may not see this application."))


def may_take(user: Any, app: Application, t: Transition) -> bool:
    """Whether `user` may take transition `t` on `app` (role, center, agency, approval; for a
    citizen account, `citizen_refusal`)."""
    staff = _staff(user)
    if staff is None or not t.roles:  # no roles: a system event (the post's callback)
        return False
    if is_citizen_account(staff):
        return citizen_refusal(staff, app, t) is None
    for role in t.roles & staff.role_codes():
        if _role_allows(staff, role, app, t):
            return True
    return bool(staff.has_role(roles.ADMIN) and t.name not in {"pay", "cancel_with_refund"})


def fulfilled_by_back_office(app: Application) -> bool:
    """Online applications (any service) and back-office services are reviewed, issued and
    dispatched by the officers of the service's agency; the rest stays at the counter."""
    from baladiya.applications.models import Channel
    from baladiya.catalog.models import Service

    return app.channel == Channel.ONLINE or app.service.approval == Service.Approval.BACK_OFFICE


def _role_allows(staff: User, role: str, app: Application, t: Transition) -> bool:
    from baladiya.applications.workflow import FULFILMENT_STEPS
    from baladiya.catalog.models import Service

    counter_service = app.service.approval == Service.Approval.COUNTER
    if role == roles.CLERK:
        if t.name == "hand_over":
            return staff.center_id is not None and staff.center_id == app.pickup_center_id
        if t.name in {"approve", "return", "start_review"} and not counter_service:
            return False
        if app.channel == "online" and t.name in FULFILMENT_STEPS:
            return False  # the back office fulfils online applications
        return staff.center_id is not None and staff.center_id == app.center_id
    if role == roles.CASHIER:
        return staff.center_id is not None and staff.center_id == app.center_id
    if role == roles.SUPERVISOR:
        # A center's supervisor decides only on applications taken at that center; the pickup
        # center may read them (can_view_application) and hand them over, nothing more.
        if staff.center_id is None:
            return True
        if t.name == "hand_over":
            return staff.center_id == app.pickup_center_id
        return staff.center_id == app.center_id
    if role == roles.OFFICER:
        if t.name == "dispatch" and not fulfilled_by_back_office(app):
            return False  # a counter document is posted by the center that printed it
        return staff.agency_id is None or staff.agency_id == app.service.agency_id
    return False


def citizen_refusal(user: Any, app: Application, t: Transition) -> str | None:
    """Why a citizen account may not take `t` on `app`; None when it may.

    The rule (the pseudo-role `roles.CITIZEN` on a transition):
    - only the steps that list `roles.CITIZEN` (resubmit, cancel): never a staff step;
    - only on an application whose applicant is the account's own citizen record;
    - only on an online application (channel `online`): one made at a counter was recorded
      by a clerk with papers checked at that center, so it is corrected or cancelled there
      (the "returned" SMS tells the citizen which center);
    - `cancel` only while no fee was received for it (no receipt at all: a fee paid, even if
      the application came back for correction, is cancelled by the council with a refund,
      `cancel_with_refund`); the workflow already limits it to submitted or returned.
    """
    from baladiya.applications.models import Channel

    account = _staff(user)
    citizen = citizen_of(account)
    if account is None or citizen is None or roles.CITIZEN not in t.roles:
        return str(_("Only the council's staff take this step."))
    if citizen.pk != app.applicant_id:
        return str(_("You may not change another person's application."))
    if app.channel != Channel.ONLINE:
        return str(
            _("This application was made at a service center: it is corrected or cancelled there.")
        )
    if t.name == "cancel" and app.receipts.exists():
        return str(
            _("A fee was paid for this application: ask the council to cancel it with a refund.")
        )
    return None


def require_transition(user: Any, app: Application, t: Transition) -> User:
    staff = _staff(user)
    if staff is not None and is_citizen_account(staff):
        reason = citizen_refusal(staff, app, t)
        if reason is not None:
            raise NotAllowed(reason)
        return staff
    if staff is None or not may_take(staff, app, t):
        raise NotAllowed(
            _("You may not “%(action)s” this application (role or center).") % {"action": t.label}
        )
    return staff
