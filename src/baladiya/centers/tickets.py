"""Support tickets: a center asks the informatics directorate for help, and they talk it out.

The state machine (who: see `centers.permissions`):

    open ──reply (directorate)──> answered ──reply (center)──> open
      │  <──────────────────────────────────────────────────────┘
      └──close (directorate)──> closed <──close (directorate)── answered

- `open`: waiting for the directorate (new, or the center wrote again);
- `answered`: the directorate replied, the ball is in the center's court;
- `closed`: final. Replying to or closing a closed ticket is an illegal transition (a clear
  message, nothing written); the center opens a new ticket for a new problem.

A reply by someone who is both (an administrator bound to a center) counts as the
directorate's. Side effects of every step: the ticket's status and last activity, a
`TicketReply` row for replies, an audit event (`center.ticket_opened`, `…_replied`,
`…_closed`) with the acting user, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from baladiya.centers.models import Center, SupportTicket, TicketReply
from baladiya.centers.permissions import (
    center_staff_center_id,
    is_directorate,
    may_see_ticket,
)
from baladiya.core import audit
from baladiya.core.errors import DomainError, IllegalTransition, NotAllowed

State = SupportTicket.Status
SUBJECT_MAX = 200
BODY_MAX = 5000

DIRECTORATE = "directorate"
CENTER = "center"


@dataclass(frozen=True)
class TicketTransition:
    name: str
    source: frozenset[str]
    target: str
    who: str  # DIRECTORATE or CENTER (the staff of the ticket's own center)
    label: str | Promise


TRANSITIONS: dict[str, TicketTransition] = {
    t.name: t
    for t in (
        TicketTransition(
            "answer",
            frozenset({State.OPEN, State.ANSWERED}),
            State.ANSWERED,
            DIRECTORATE,
            _("Reply"),
        ),
        TicketTransition(
            "follow_up",
            frozenset({State.OPEN, State.ANSWERED}),
            State.OPEN,
            CENTER,
            _("Reply"),
        ),
        TicketTransition(
            "close",
            frozenset({State.OPEN, State.ANSWERED}),
            State.CLOSED,
            DIRECTORATE,
            _("Close"),
        ),
    )
}


def check_transition(name: str, current: str) -> TicketTransition:
    """The transition, if it may leave `current`; else IllegalTransition with a clear message."""
    t = TRANSITIONS[name]
    if current not in t.source:
        raise IllegalTransition(
            _("This ticket is “%(status)s”: “%(action)s” is not possible now.")
            % {"status": State(current).label, "action": t.label}
        )
    return t


def may_take(user: Any, ticket: SupportTicket, name: str) -> bool:
    """Role and center only (not the state): whether `user` is the kind of person for `name`."""
    t = TRANSITIONS[name]
    if t.who == DIRECTORATE:
        return is_directorate(user)
    return not is_directorate(user) and center_staff_center_id(user) == ticket.center_id


def reply_step(user: Any, ticket: SupportTicket) -> str | None:
    """Which reply transition `user` would take on `ticket` (None: may not reply at all)."""
    for name in ("answer", "follow_up"):
        if may_take(user, ticket, name):
            return name
    return None


def _clean(text: str, label: str | Promise, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(_("“%(field)s” is required.") % {"field": label}, code="required")
    if len(text) > limit:
        raise DomainError(
            _("“%(field)s” is too long (at most %(max)d characters).")
            % {"field": label, "max": limit},
            code="too_long",
        )
    return text


def open_ticket(actor: Any, subject: str, body: str) -> SupportTicket:
    """A clerk, cashier or supervisor opens a ticket for the center they work at."""
    center_id = center_staff_center_id(actor)
    if center_id is None:
        raise NotAllowed(_("Only the staff of a center open support tickets, for their center."))
    subject = _clean(subject, _("Subject"), SUBJECT_MAX)
    body = _clean(body, _("Message"), BODY_MAX)
    center = Center.objects.get(pk=center_id)
    with transaction.atomic():
        ticket = SupportTicket.objects.create(
            center=center,
            opened_by=actor,
            subject=subject,
            body=body,
            status=State.OPEN,
            updated_at=timezone.now(),
        )
        audit.record(
            "center.ticket_opened", actor=actor, obj=ticket, center=center.code, subject=subject
        )
    return ticket


def _locked(ticket: SupportTicket, actor: Any) -> SupportTicket:
    locked = SupportTicket.objects.select_for_update().select_related("center").get(pk=ticket.pk)
    if not may_see_ticket(actor, locked):
        raise NotAllowed(_("This ticket belongs to another center."))
    return locked


def reply_to_ticket(ticket: SupportTicket, actor: Any, body: str) -> TicketReply:
    """The directorate answers (→ answered) or the center writes again (→ open)."""
    body = _clean(body, _("Message"), BODY_MAX)
    with transaction.atomic():
        locked = _locked(ticket, actor)
        step = reply_step(actor, locked)
        if step is None:
            raise NotAllowed(_("Your role may read this ticket but not reply to it."))
        t = check_transition(step, locked.status)
        now = timezone.now()
        reply = TicketReply.objects.create(
            ticket=locked, author=actor, body=body, from_directorate=t.who == DIRECTORATE
        )
        before = locked.status
        locked.status, locked.updated_at = t.target, now
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            "center.ticket_replied",
            actor=actor,
            obj=locked,
            center=locked.center.code,
            reply=str(reply.pk),
            status_before=before,
            status=locked.status,
        )
    _refresh(ticket, locked)
    return reply


def close_ticket(ticket: SupportTicket, actor: Any) -> SupportTicket:
    """The directorate closes a ticket (the problem is solved, or will not be)."""
    with transaction.atomic():
        locked = _locked(ticket, actor)
        if not may_take(actor, locked, "close"):
            raise NotAllowed(_("Only the informatics directorate closes tickets."))
        t = check_transition("close", locked.status)
        now = timezone.now()
        before = locked.status
        locked.status, locked.updated_at, locked.closed_at = t.target, now, now
        locked.save(update_fields=["status", "updated_at", "closed_at"])
        audit.record(
            "center.ticket_closed",
            actor=actor,
            obj=locked,
            center=locked.center.code,
            status_before=before,
        )
    _refresh(ticket, locked)
    return ticket


def _refresh(ticket: SupportTicket, locked: SupportTicket) -> None:
    """The caller's object shows the new state, as after `refresh_from_db`."""
    ticket.status, ticket.updated_at, ticket.closed_at = (
        locked.status,
        locked.updated_at,
        locked.closed_at,
    )
