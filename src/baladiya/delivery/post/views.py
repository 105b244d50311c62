"""The post desk (dispatch list, dispatch, labels), the carrier's callback, and the sandbox page.

Staff pages: officers see their agency's back-office post, clerks their center's counter post,
admins all (`services.dispatch_scope`); anyone else gets a 403, another agency's or center's
application a 404. The callback is public but believes only a correctly signed body.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import require_role
from baladiya.core.errors import DomainError, NotAllowed, NotFound
from baladiya.delivery.post import printing, sandbox, services
from baladiya.delivery.post.interface import BadCallback, PostalError
from baladiya.delivery.post.models import SandboxParcel, Shipment

LIST_LIMIT = 500
CALLBACK_MAX_BYTES = 64 * 1024


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


def _desk(request: HttpRequest) -> User | HttpResponse:
    try:
        return services.require_post_desk(request.user)
    except NotAllowed as exc:
        return _forbidden(request, str(exc.message))


def _day(request: HttpRequest) -> dt.date:
    raw = (request.GET.get("day") or "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _list_url(day: dt.date | None = None) -> str:
    url = reverse("delivery:dispatch_list")
    return f"{url}?day={day.isoformat()}" if day else url


@login_required
@require_GET
def dispatch_list(request: HttpRequest) -> HttpResponse:
    """Documents waiting to be sent (all days) and what was sent on the chosen day."""
    user = _desk(request)
    if isinstance(user, HttpResponse):
        return user
    day = _day(request)
    waiting = services.awaiting_dispatch(user)
    return render(
        request,
        "delivery/dispatch_list.html",
        {
            "day": day,
            "today": timezone.localdate(),
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "waiting": list(waiting[:LIST_LIMIT]),
            "waiting_total": waiting.count(),
            "sent": list(services.dispatched_on(user, day)),
        },
    )


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def dispatch(request: HttpRequest, reference: str) -> HttpResponse:
    """Send one application's document by post (from its detail page or the list)."""
    user = _desk(request)
    if isinstance(user, HttpResponse):
        return user
    app = services.dispatch_scope(user).filter(reference=reference.upper()).first()
    if app is None:
        raise Http404(_("No such application in your dispatch list."))
    try:
        shipment = services.dispatch(app, user)
    except NotAllowed as exc:
        return _forbidden(request, str(exc.message))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(reference)s sent by post: tracking number %(number)s.")
            % {"reference": app.reference, "number": shipment.tracking_number},
        )
    return redirect(_back(request, _list_url()))


@login_required
@require_POST
def dispatch_selected(request: HttpRequest) -> HttpResponse:
    """Send every ticked document of the dispatch list."""
    user = _desk(request)
    if isinstance(user, HttpResponse):
        return user
    references = request.POST.getlist("reference")
    if not references:
        messages.warning(request, _("Tick the documents to send."))
        return redirect(_list_url())
    result = services.dispatch_many(references, user)
    if result.sent:
        messages.success(
            request,
            ngettext(
                "%(count)s document sent by post. Print its label.",
                "%(count)s documents sent by post. Print their labels.",
                len(result.sent),
            )
            % {"count": len(result.sent)},
        )
    for reference, message in result.refused:
        messages.error(request, f"{reference}: {message}")
    return redirect(_list_url())


def _pdf(body: bytes, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def labels(request: HttpRequest) -> HttpResponse:
    """The address labels of the day's shipments (A4 sheets of 8)."""
    user = _desk(request)
    if isinstance(user, HttpResponse):
        return user
    day = _day(request)
    try:
        body = printing.labels_pdf(user, day)
    except DomainError as exc:
        messages.warning(request, str(exc.message))
        return redirect(_list_url(day))
    return _pdf(body, f"labels-{day.isoformat()}.pdf")


@login_required
@require_GET
def dispatch_list_pdf(request: HttpRequest) -> HttpResponse:
    """The day's dispatch list, to print and have the post office sign."""
    user = _desk(request)
    if isinstance(user, HttpResponse):
        return user
    day = _day(request)
    return _pdf(printing.dispatch_list_pdf(user, day), f"dispatch-{day.isoformat()}.pdf")


# ---------------------------------------------------------------- the carrier's callback


def _json_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@csrf_exempt
@require_POST
def callback(request: HttpRequest) -> JsonResponse:
    """Events from the postal service. 200 for anything taken (also a replay: the carrier must
    stop retrying), 401 for a bad signature, 400 for a malformed body, 404 for an unknown
    tracking number (the carrier retries: our dispatch may not be committed yet)."""
    if len(request.body) > CALLBACK_MAX_BYTES:
        return _json_error("too_large", "body too large", 413)
    try:
        outcome = services.receive_callback(request.body, request.headers)
    except BadCallback as exc:
        return _json_error(exc.code, str(exc), exc.status)
    except NotFound as exc:
        return _json_error(exc.code, str(exc.message), 404)
    except PostalError as exc:  # no carrier configured on this node
        return _json_error("not_configured", str(exc), 503)
    return JsonResponse({"status": outcome})


# ---------------------------------------------------------------- sandbox (developers)


def _sandbox_active() -> bool:
    path = getattr(settings, "POSTAL_SERVICE", "") or ""
    return not path or path.endswith(".SandboxPostalService")


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_page(request: HttpRequest) -> HttpResponse:
    """Developers move sandbox parcels on: deliver, return, transit, optionally with the
    callback sent twice or in reverse order. Admins only, and only with the sandbox post."""
    require_role(request.user, roles.ADMIN)
    if not _sandbox_active():
        raise Http404
    if request.method == "POST":
        parcel = SandboxParcel.objects.filter(
            tracking_number=(request.POST.get("tracking") or "").upper()
        ).first()
        outcome = request.POST.get("outcome", "")
        if parcel is None or outcome not in sandbox.OUTCOMES:
            messages.error(request, _("Choose a parcel and what happens to it."))
        else:
            events = sandbox.advance(
                parcel,
                outcome,
                duplicate=bool(request.POST.get("duplicate")),
                reverse_order=bool(request.POST.get("reverse")),
            )
            messages.success(
                request,
                _("%(count)s events queued for %(number)s; the outbox delivers them.")
                % {"count": len(events), "number": parcel.tracking_number},
            )
        return redirect("delivery:post_sandbox")
    parcels = list(SandboxParcel.objects.order_by("-created_at")[:100])
    shipments = {
        s.tracking_number: s
        for s in Shipment.objects.filter(
            tracking_number__in=[p.tracking_number for p in parcels]
        ).select_related("application")
    }
    return render(
        request,
        "delivery/post_sandbox.html",
        {
            "rows": [(p, shipments.get(p.tracking_number)) for p in parcels],
            "callback_url": sandbox.callback_url(),
        },
    )
