"""Support tickets: scoped per center, a small explicit state machine, clear refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.centers.models import Center, SupportTicket, TicketReply
from baladiya.centers.permissions import visible_tickets
from baladiya.centers.tickets import close_ticket, open_ticket, reply_to_ticket
from baladiya.core.errors import DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.core.testing import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket03(clerk: User) -> SupportTicket:
    return open_ticket(clerk, "Printer jams", "The receipt printer jams on every receipt.")


@pytest.fixture
def ticket04(clerk04: User) -> SupportTicket:
    return open_ticket(clerk04, "Link down", "No internet since 09:00.")


# ---------------------------------------------------------------- services


def test_center_staff_open_tickets_for_their_own_center(
    clerk: User, cashier: User, supervisor: User, center: Center
) -> None:
    for who in (clerk, cashier, supervisor):
        ticket = open_ticket(who, f"From {who.username}", "Help")
        assert ticket.center == center and ticket.status == "open"
        assert ticket.opened_by == who
    assert AuditEvent.objects.filter(action="center.ticket_opened", center="C03").count() == 3


@pytest.mark.parametrize("who", ["officer", "auditor", "admin_user", "agency_officer"])
def test_people_without_a_center_role_do_not_open_tickets(
    who: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(NotAllowed, match="Only the staff of a center"):
        open_ticket(request.getfixturevalue(who), "Hi", "Hello")
    assert not SupportTicket.objects.exists()


def test_network_supervisor_without_center_opens_none(make_user: Callable[..., User]) -> None:
    network_supervisor = make_user("super", roles.SUPERVISOR)
    with pytest.raises(NotAllowed):
        open_ticket(network_supervisor, "Hi", "Hello")


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [
        ("", "text", "“Subject” is required"),
        ("   ", "text", "“Subject” is required"),
        ("Printer", "", "“Message” is required"),
        ("x" * 201, "text", r"“Subject” is too long \(at most 200 characters\)"),
        ("Printer", "x" * 5001, r"“Message” is too long \(at most 5000 characters\)"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    clerk: User, subject: str, body: str, message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        open_ticket(clerk, subject, body)
    assert not SupportTicket.objects.exists()
    assert not AuditEvent.objects.exists()


def test_conversation_moves_the_state_machine(
    ticket03: SupportTicket, officer: User, clerk: User, admin_user: User
) -> None:
    reply = reply_to_ticket(ticket03, officer, "Try another paper roll.")
    assert reply.from_directorate and ticket03.status == "answered"
    reply_to_ticket(ticket03, clerk, "Still jams.")
    assert ticket03.status == "open"
    reply_to_ticket(ticket03, admin_user, "A technician comes tomorrow.")
    assert ticket03.status == "answered"
    close_ticket(ticket03, officer)
    ticket03.refresh_from_db()
    assert ticket03.status == "closed" and ticket03.closed_at is not None
    assert list(ticket03.replies.values_list("from_directorate", flat=True)) == [True, False, True]
    actions = list(
        AuditEvent.objects.filter(object_id=str(ticket03.pk)).values_list("action", flat=True)
    )
    assert actions == [
        "center.ticket_opened",
        "center.ticket_replied",
        "center.ticket_replied",
        "center.ticket_replied",
        "center.ticket_closed",
    ]


def test_illegal_transitions_give_a_clear_error_and_change_nothing(
    ticket03: SupportTicket, officer: User, clerk: User
) -> None:
    close_ticket(ticket03, officer)
    replies = TicketReply.objects.count()
    with pytest.raises(IllegalTransition, match="This ticket is “Closed”: “Reply” is not possible"):
        reply_to_ticket(ticket03, clerk, "One more thing")
    with pytest.raises(IllegalTransition, match="“Close” is not possible now"):
        close_ticket(ticket03, officer)
    assert TicketReply.objects.count() == replies
    assert AuditEvent.objects.filter(action="center.ticket_closed").count() == 1


def test_roles_per_step(
    ticket03: SupportTicket, clerk: User, clerk04: User, auditor: User, agency_officer: User
) -> None:
    with pytest.raises(NotAllowed, match="Only the informatics directorate closes"):
        close_ticket(ticket03, clerk)
    with pytest.raises(NotAllowed, match="another center"):
        reply_to_ticket(ticket03, clerk04, "Not mine")
    with pytest.raises(NotAllowed, match="may read this ticket but not reply"):
        reply_to_ticket(ticket03, auditor, "Looks fine")
    with pytest.raises(NotAllowed):
        reply_to_ticket(ticket03, agency_officer, "Hello")
    ticket03.refresh_from_db()
    assert ticket03.status == "open" and not ticket03.replies.exists()


def test_visibility_per_role(
    ticket03: SupportTicket,
    ticket04: SupportTicket,
    clerk: User,
    clerk04: User,
    officer: User,
    auditor: User,
    agency_officer: User,
    make_user: Callable[..., User],
) -> None:
    def codes(user: User) -> set[str]:
        return set(visible_tickets(user).values_list("center__code", flat=True))

    assert codes(clerk) == {"C03"} and codes(clerk04) == {"C04"}
    assert codes(officer) == codes(auditor) == {"C03", "C04"}
    assert codes(agency_officer) == set()
    assert codes(make_user("finance", roles.FINANCE)) == set()


# ---------------------------------------------------------------- pages


def test_clerk_of_c03_cannot_see_c04_ticket(
    clerk: User, ticket03: SupportTicket, ticket04: SupportTicket
) -> None:
    client = logged_in(clerk)
    listing = client.get(reverse("centers:tickets")).content.decode()
    assert "Printer jams" in listing and "Link down" not in listing
    assert client.get(reverse("centers:ticket", args=[ticket04.pk])).status_code == 404
    reply = client.post(reverse("centers:ticket", args=[ticket04.pk]), {"body": "hi"})
    assert reply.status_code == 404
    close = client.post(reverse("centers:ticket_close", args=[ticket04.pk]))
    assert close.status_code == 404
    assert not ticket04.replies.exists()


def test_clerk_opens_a_ticket_from_the_form(clerk: User) -> None:
    client = logged_in(clerk)
    assert client.get(reverse("centers:ticket_new")).status_code == 200
    response = client.post(
        reverse("centers:ticket_new"), {"subject": "Scanner", "body": "It does not scan."}
    )
    ticket = SupportTicket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("centers:ticket", args=[ticket.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Scanner" in page and "It does not scan." in page and "Send reply" in page
    assert "Close the ticket" not in page  # the directorate closes


def test_empty_ticket_form_shows_errors_in_arabic(clerk: User) -> None:
    response = logged_in(clerk, "ar").post(reverse("centers:ticket_new"), {"subject": ""})
    assert response.status_code == 200
    assert "هذا الحقل إلزامي" in response.content.decode()  # Django's own "required", in Arabic
    assert not SupportTicket.objects.exists()


def test_officer_answers_and_closes_from_the_page(officer: User, ticket03: SupportTicket) -> None:
    client = logged_in(officer)
    url = reverse("centers:ticket", args=[ticket03.pk])
    page = client.get(url).content.decode()
    assert "Close the ticket" in page and "Send reply" in page
    assert client.post(url, {"body": "On our way."}).status_code == 302
    ticket03.refresh_from_db()
    assert ticket03.status == "answered"
    assert client.post(reverse("centers:ticket_close", args=[ticket03.pk])).status_code == 302
    closed = client.get(url).content.decode()
    assert "Closed" in closed and "Send reply" not in closed and "Close the ticket" not in closed
    again = client.post(reverse("centers:ticket_close", args=[ticket03.pk]), follow=True)
    assert "is not possible now" in again.content.decode()


def test_reply_to_a_closed_ticket_is_a_clear_message(
    clerk: User, officer: User, ticket03: SupportTicket
) -> None:
    close_ticket(ticket03, officer)
    response = logged_in(clerk).post(
        reverse("centers:ticket", args=[ticket03.pk]), {"body": "But wait"}
    )
    assert response.status_code == 200
    assert "This ticket is “Closed”" in response.content.decode()
    assert not ticket03.replies.exists()


def test_empty_reply_is_a_form_error(clerk: User, ticket03: SupportTicket) -> None:
    response = logged_in(clerk).post(reverse("centers:ticket", args=[ticket03.pk]), {"body": " "})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not ticket03.replies.exists()


def test_auditor_reads_but_may_not_reply_or_close(auditor: User, ticket03: SupportTicket) -> None:
    client = logged_in(auditor)
    url = reverse("centers:ticket", args=[ticket03.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Send reply" not in page.content.decode()
    assert client.post(url, {"body": "hm"}).status_code == 403
    assert client.post(reverse("centers:ticket_close", args=[ticket03.pk])).status_code == 403
    ticket03.refresh_from_db()
    assert ticket03.status == "open"


@pytest.mark.parametrize("who", ["agency_officer", "finance"])
def test_other_roles_get_403(
    who: str,
    request: pytest.FixtureRequest,
    ticket03: SupportTicket,
    make_user: Callable[..., User],
) -> None:
    user = make_user("fin", roles.FINANCE) if who == "finance" else request.getfixturevalue(who)
    client = logged_in(user)
    assert client.get(reverse("centers:tickets")).status_code == 403
    assert client.get(reverse("centers:ticket_new")).status_code == 403
    assert client.get(reverse("centers:ticket", args=[ticket03.pk])).status_code == 403


def test_directorate_cannot_open_a_ticket_page(officer: User) -> None:
    response = logged_in(officer).get(reverse("centers:ticket_new"))
    assert response.status_code == 403


def test_list_filters_by_status(
    officer: User, ticket03: SupportTicket, ticket04: SupportTicket
) -> None:
    close_ticket(ticket04, officer)
    html = logged_in(officer).get(reverse("centers:tickets") + "?status=open").content.decode()
    assert "Printer jams" in html and "Link down" not in html
    bad = logged_in(officer).get(reverse("centers:tickets") + "?status=nonsense")
    assert bad.status_code == 200
