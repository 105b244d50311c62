"""Who may see the network's status and the centers' support tickets.

The informatics directorate runs the centers' network (their nodes, links, power, software).
In the roles we have (`accounts.roles`) it is:

- **administrators** (`admin`): the people who run the council's systems;
- **directorate officers with no agency** (`officer`, `User.agency` empty): the council's own
  back office. An officer bound to an agency (say Civil Affairs) works that ministry's
  applications and has no say over the council's machines, so is left out (least privilege).

They read the status page, correct an outage's cause and note, and see, answer and close
every center's support tickets. **Auditors** read the status page and every ticket and change
nothing. **Center staff** (clerk, cashier, supervisor bound to a center) open tickets for
their own center and answer in them; they never see another center's tickets (a 404 in the
views: their existence is not revealed). Nobody else sees any of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.core.errors import NotAllowed

if TYPE_CHECKING:
    from baladiya.accounts.models import User
    from baladiya.centers.models import SupportTicket

CENTER_STAFF_ROLES = (roles.CLERK, roles.CASHIER, roles.SUPERVISOR)


def _staff(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "has_role"):
        return None
    return user  # type: ignore[no-any-return]


def is_directorate(user: Any) -> bool:
    """An administrator, or an officer not bound to an agency (see the module docstring)."""
    staff = _staff(user)
    if staff is None:
        return False
    if staff.has_role(roles.ADMIN):
        return True
    return staff.has_role(roles.OFFICER) and staff.agency_id is None


def may_read_network(user: Any) -> bool:
    """The status page and every ticket, read-only: the directorate and auditors."""
    staff = _staff(user)
    return staff is not None and (is_directorate(staff) or staff.has_role(roles.AUDITOR))


def center_staff_center_id(user: Any) -> Any:
    """The center a clerk, cashier or center supervisor works at; None for anyone else."""
    staff = _staff(user)
    if staff is None or staff.center_id is None or not staff.has_role(*CENTER_STAFF_ROLES):
        return None
    return staff.center_id


def require_directorate(user: Any) -> User:
    staff = _staff(user)
    if staff is None or not is_directorate(staff):
        raise NotAllowed(
            _("Only the informatics directorate (officers, administrators) may do this.")
        )
    return staff


def require_network_reader(user: Any) -> User:
    staff = _staff(user)
    if staff is None or not may_read_network(staff):
        raise NotAllowed(_("The centers' status is for the informatics directorate and auditors."))
    return staff


def may_use_tickets(user: Any) -> bool:
    return may_read_network(user) or center_staff_center_id(user) is not None


def visible_tickets(user: Any) -> QuerySet[SupportTicket]:
    """The tickets `user` may see: all for the directorate and auditors, their own center's
    for center staff, none otherwise."""
    from baladiya.centers.models import SupportTicket

    qs = SupportTicket.objects.select_related("center", "opened_by")
    if may_read_network(user):
        return qs
    center_id = center_staff_center_id(user)
    if center_id is None:
        return qs.none()
    return qs.filter(center_id=center_id)


def may_see_ticket(user: Any, ticket: SupportTicket) -> bool:
    return may_read_network(user) or (
        center_staff_center_id(user) is not None
        and center_staff_center_id(user) == ticket.center_id
    )
