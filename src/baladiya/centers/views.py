"""Public coverage page; the directorate's status page; the centers' support tickets.

Views parse, authorize and render; every write is a function of `centers.status` or
`centers.tickets`. A wrong role is a 403 page; another center's ticket a 404 (its existence
is not revealed); bad input a form error, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.accounts.models import User
from baladiya.centers import services, status, tickets, uptime
from baladiya.centers.forms import (
    OutageFilterForm,
    OutageForm,
    ReplyForm,
    TicketFilterForm,
    TicketForm,
)
from baladiya.centers.models import Center, Outage, SupportTicket
from baladiya.centers.permissions import (
    center_staff_center_id,
    is_directorate,
    may_read_network,
    may_see_ticket,
    may_use_tickets,
    visible_tickets,
)
from baladiya.core.errors import DomainError, NotAllowed

PAGE_SIZE = 50


@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    data = services.coverage()
    bars = services.chart_bars(data.centers, get_language() or "ar")
    return render(
        request,
        "centers/coverage.html",
        {
            "cov": data,
            "bars": bars,
            "chart_height": max(1, len(bars)) * services.CHART_ROW + 10,
            "chart_width": services.CHART_WIDTH,
        },
    )


# ---------------------------------------------------------------- helpers


def staff_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged in as staff; the view gets the User (a citizen account or no role: 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not isinstance(user, User) or not user.role_codes():
            return _forbidden(request, _("Your role or center does not allow this."))
        return view(request, user, *args, **kwargs)

    return wrapper


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


# ---------------------------------------------------------------- status page


@staff_view
@require_GET
def status_page(request: HttpRequest, user: User) -> HttpResponse:
    """All centers at a glance, their uptime over 30 days, and the outage log."""
    if not may_read_network(user):
        return _forbidden(
            request, _("The centers' status is for the informatics directorate and auditors.")
        )
    now = timezone.now()
    rows = uptime.network_status(30, now=now)
    codes = [r.center.code for r in rows]
    filters = OutageFilterForm(request.GET or None, codes=codes)
    code = filters.code()
    outages = Outage.objects.select_related("center").order_by("-started_at")
    if code:
        outages = outages.filter(center__code=code)
    page = Paginator(outages, PAGE_SIZE).get_page(request.GET.get("page"))
    for outage in page:
        outage.lasted = (outage.ended_at or now) - outage.started_at  # type: ignore[attr-defined]
    return render(
        request,
        "centers/status.html",
        {
            "rows": rows,
            "chart": uptime.uptime_chart(rows),
            "alerts": uptime.open_alerts(),
            "alert_phones": len(status.alert_phones()),
            "filters": filters,
            "code": code,
            "page": page,
            "now": now,
            "may_edit": is_directorate(user),
            "offline_after": int(status.offline_after().total_seconds()),
            "alert_after": int(status.alert_after().total_seconds()),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def outage_edit(request: HttpRequest, user: User, pk: Any) -> HttpResponse:
    """The directorate sets an outage's cause and note (auditors only read: 403)."""
    if not is_directorate(user):
        return _forbidden(
            request, _("Only the informatics directorate (officers, administrators) may do this.")
        )
    outage = get_object_or_404(Outage.objects.select_related("center"), pk=pk)
    if request.method == "POST":
        form = OutageForm(request.POST)
        if form.is_valid():
            try:
                status.set_outage_cause(
                    outage, user, form.cleaned_data["cause"], form.cleaned_data["note"]
                )
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("Outage of %(code)s updated.") % {"code": outage.center.code},
                )
                return redirect(reverse("centers:status") + f"?center={outage.center.code}#outages")
    else:
        form = OutageForm(initial={"cause": outage.cause, "note": outage.note})
    return render(
        request,
        "centers/outage_edit.html",
        {"outage": outage, "form": form, "now": timezone.now()},
    )


# ---------------------------------------------------------------- tickets


def _no_tickets(request: HttpRequest) -> HttpResponse:
    return _forbidden(
        request,
        _("Support tickets are for the staff of a center and the informatics directorate."),
    )


def _visible_ticket(user: User, pk: Any) -> SupportTicket:
    ticket = SupportTicket.objects.select_related("center", "opened_by").filter(pk=pk).first()
    if ticket is None or not may_see_ticket(user, ticket):
        raise Http404  # another center's ticket: do not reveal that it exists
    return ticket


@staff_view
@require_GET
def ticket_list(request: HttpRequest, user: User) -> HttpResponse:
    if not may_use_tickets(user):
        return _no_tickets(request)
    filters = TicketFilterForm(request.GET or None)
    qs = visible_tickets(user)
    wanted = filters.cleaned_data.get("status") if filters.is_valid() else ""
    if wanted:
        qs = qs.filter(status=wanted)
    page = Paginator(qs.order_by("-updated_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    center_id = center_staff_center_id(user)
    return render(
        request,
        "centers/tickets.html",
        {
            "page": page,
            "filters": filters,
            "may_open": center_id is not None,
            "own_center": Center.objects.filter(pk=center_id).first() if center_id else None,
            "network": may_read_network(user),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest, user: User) -> HttpResponse:
    center_id = center_staff_center_id(user)
    if center_id is None:
        return _forbidden(
            request, _("Only the staff of a center open support tickets, for their center.")
        )
    if request.method == "POST":
        form = TicketForm(request.POST)
        if form.is_valid():
            try:
                ticket = tickets.open_ticket(
                    user, form.cleaned_data["subject"], form.cleaned_data["body"]
                )
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Your ticket was sent to the informatics directorate."))
                return redirect("centers:ticket", pk=ticket.pk)
    else:
        form = TicketForm()
    return render(
        request,
        "centers/ticket_new.html",
        {"form": form, "center": Center.objects.get(pk=center_id)},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, user: User, pk: Any) -> HttpResponse:
    """A ticket with its replies; POST: a reply."""
    if not may_use_tickets(user):
        return _no_tickets(request)
    ticket = _visible_ticket(user, pk)
    step = tickets.reply_step(user, ticket)
    form = ReplyForm()
    if request.method == "POST":
        if step is None:
            return _forbidden(request, _("Your role may read this ticket but not reply to it."))
        form = ReplyForm(request.POST)
        if form.is_valid():
            try:
                tickets.reply_to_ticket(ticket, user, form.cleaned_data["body"])
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except DomainError as exc:  # closed meanwhile: say so, keep the text in the form
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect("centers:ticket", pk=ticket.pk)
    is_open = ticket.status != SupportTicket.Status.CLOSED
    return render(
        request,
        "centers/ticket.html",
        {
            "ticket": ticket,
            "replies": ticket.replies.select_related("author"),
            "form": form,
            "may_reply": step is not None and is_open,
            "may_close": tickets.may_take(user, ticket, "close") and is_open,
        },
    )


@staff_view
@require_POST
def ticket_close(request: HttpRequest, user: User, pk: Any) -> HttpResponse:
    if not may_use_tickets(user):
        return _no_tickets(request)
    ticket = _visible_ticket(user, pk)
    try:
        tickets.close_ticket(ticket, user)
    except NotAllowed as exc:
        return _forbidden(request, str(exc.message))
    except DomainError as exc:  # already closed: a clear message, nothing changed
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The ticket is closed."))
    return redirect("centers:ticket", pk=ticket.pk)
