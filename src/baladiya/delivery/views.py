"""Pickup counter: the queue of documents waiting at the clerk's center, and the hand-over form.

Keyboard-fast: the search box has focus; a reference, document number or national number
that matches exactly one waiting document opens its hand-over form directly.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import require_role
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError
from baladiya.delivery import services
from baladiya.delivery.forms import HandoverForm
from baladiya.delivery.models import Handover

QUEUE_LIMIT = 200


def _network_wide(user: User) -> bool:
    """Admins and network supervisors have no center of their own: they pick one."""
    return user.center_id is None and user.has_role(roles.ADMIN, roles.SUPERVISOR)


def _queue_center(request: HttpRequest, user: User) -> Center | None:
    if not _network_wide(user):
        return user.center
    code = request.GET.get("center", "").strip().upper()
    centers = Center.objects.filter(active=True, accepts_pickup=True)
    return centers.filter(code=code).first() if code else centers.first()


@login_required
def pickup_queue(request: HttpRequest) -> HttpResponse:
    user = require_role(request.user, roles.CLERK, roles.SUPERVISOR, roles.ADMIN)
    center = _queue_center(request, user)
    if center is None:
        raise Http404(_("No such center."))
    query = request.GET.get("q", "").strip()
    rows = services.search_pickup_queue(center, query) if query else services.pickup_queue(center)
    total = services.pickup_queue(center).count()
    shown = list(rows[:QUEUE_LIMIT])
    can_hand_over = user.has_role(roles.CLERK, roles.ADMIN)
    if query and len(shown) == 1 and can_hand_over and _is_identifier(query):
        return redirect("delivery:handover", reference=shown[0].reference)
    for app in shown:
        app.waiting_days = services.waiting_days(app.ready_since)  # type: ignore[attr-defined]
    return render(
        request,
        "delivery/pickup_queue.html",
        {
            "center": center,
            "rows": shown,
            "total": total,
            "query": query,
            "truncated": len(shown) == QUEUE_LIMIT,
            "can_hand_over": can_hand_over,
            "choose_center": _network_wide(user),
            "centers": Center.objects.filter(active=True, accepts_pickup=True),
        },
    )


def _is_identifier(query: str) -> bool:
    """A reference, document number or national number (not a name)."""
    return any(ch.isdigit() for ch in query)


def _application_for(user: User, reference: str) -> Application:
    """The application with this reference whose pickup center is the user's (404 otherwise)."""
    qs = Application.objects.select_related("service", "applicant", "center", "pickup_center")
    if not _network_wide(user):
        qs = qs.filter(pickup_center_id=user.center_id)
    app = qs.filter(reference__iexact=reference.strip()).first()
    if app is None or app.pickup_center_id is None:
        raise Http404(_("No document with this reference is delivered at your center."))
    return app


def _document_number(app: Application) -> str:
    try:
        return str(app.document.number)  # type: ignore[attr-defined]
    except ObjectDoesNotExist:
        return ""


def _handover_of(app: Application) -> Handover | None:
    return Handover.objects.select_related("handed_by", "center").filter(application=app).first()


@login_required
@require_http_methods(["GET", "POST"])
def handover(request: HttpRequest, reference: str) -> HttpResponse:
    user = require_role(request.user, roles.CLERK, roles.ADMIN)
    app = _application_for(user, reference)
    form = HandoverForm(request.POST or None, initial={"recipient_name": ""})
    if request.method == "POST" and form.is_valid():
        try:
            done = services.hand_over(
                app,
                user,
                form.cleaned_data["recipient_name"],
                form.cleaned_data["id_kind"],
                form.cleaned_data["id_number"],
                is_applicant=form.is_applicant,
            )
        except DomainError as exc:
            if exc.code == "already_handed_over":
                messages.warning(request, str(exc.message))
                return redirect("delivery:handover", reference=app.reference)
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request,
                _("Document %(reference)s handed over to %(name)s.")
                % {"reference": app.reference, "name": done.recipient_name},
            )
            url = reverse("delivery:pickup_queue")
            if _network_wide(user) and app.pickup_center is not None:
                url += f"?center={app.pickup_center.code}"
            return redirect(url)
    return render(
        request,
        "delivery/handover.html",
        {
            "app": app,
            "form": form,
            "document_number": _document_number(app),
            "done": _handover_of(app) if app.status == Status.HANDED_OVER else None,
            "ready": app.status == Status.READY_FOR_PICKUP,
        },
    )
