"""Counter, application detail, review actions, supervision and back office.

Views parse, authorize and render; every write is a function of `applications.services`.
An application another center owns is a 404 (its existence is not revealed); a role that may
not take an action is a 403; an illegal transition is a clear message on the detail page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import (
    can_view_application,
    may_take,
    require_center,
    require_role,
)
from baladiya.applications import hooks, reports, services
from baladiya.applications.forms import (
    ApplicationForm,
    CitizenForm,
    QueueFilterForm,
    ResubmitForm,
    field_values_for_form,
    new_token,
)
from baladiya.applications.models import Application, Attachment
from baladiya.applications.workflow import (
    OPEN_STATES,
    TRANSITIONS,
    Status,
    Transition,
    available,
    transition,
)
from baladiya.catalog.models import Service
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.text import normalize_arabic

PAGE_SIZE = 50
REFERENCE = re.compile(r"[A-Z][0-9]{2}-[0-9]{2}-[0-9]{6}", re.IGNORECASE)

# Review actions taken on the detail page (others link to their own app's screens).
ACTIONS: dict[str, Callable[[Application, User, str], Application]] = {
    "start_review": lambda app, user, note: services.start_review(app, user),
    "approve": services.approve,
    "return": services.return_for_correction,
    "reject": services.reject,
    "cancel": services.cancel,
}
NOTE_REQUIRED = frozenset({"return", "reject", "cancel"})
NOTE_OPTIONAL = frozenset({"approve"})
DANGER = frozenset({"reject", "cancel", "cancel_with_refund"})


def _language() -> str:
    return get_language() or "ar"


def staff_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged in and holding at least one role; the view gets the User."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not isinstance(user, User) or not user.role_codes():
            raise PermissionDenied
        return view(request, user, *args, **kwargs)

    return wrapper


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


def _visible_application(user: User, reference: str) -> Application:
    app = (
        Application.objects.select_related(
            "service", "service__agency", "applicant", "center", "pickup_center", "created_by"
        )
        .filter(reference=reference.upper())
        .first()
    )
    if app is None or not can_view_application(user, app):
        raise Http404  # another center's record: do not reveal that it exists
    return app


def _page(request: HttpRequest, qs: QuerySet[Any], param: str = "page") -> Page[Any]:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get(param))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# ---------------------------------------------------------------- counter


@staff_view
@require_http_methods(["GET", "POST"])
def counter(request: HttpRequest, user: User) -> HttpResponse:
    """Search a citizen (national number or name), or register a new one."""
    require_role(user, roles.CLERK)
    if user.center is None:
        return _forbidden(
            request, _("Your account is not attached to a center. Ask an administrator.")
        )
    require_center(user, user.center)
    query = (request.GET.get("q") or "").strip()
    results: list[Citizen] = []
    form = CitizenForm()
    if request.method == "POST":
        form = CitizenForm(request.POST)
        if form.is_valid():
            try:
                citizen = services.register_citizen(user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error("national_number", str(exc.message))
            else:
                messages.success(
                    request, _("%(name)s is registered.") % {"name": citizen.full_name}
                )
                return redirect("applications:citizen", pk=citizen.pk)
    elif query:
        if REFERENCE.fullmatch(query):
            return redirect("applications:detail", reference=query.upper())
        results = list(services.find_citizens(query))
        digits = normalize_arabic(query)
        if digits.isdigit() and len(digits) == 11:
            exact = [c for c in results if c.national_number == digits]
            if len(exact) == 1:
                return redirect("applications:citizen", pk=exact[0].pk)
            if not results:
                form = CitizenForm(initial={"national_number": digits})
    assert user.center is not None  # require_center above
    recent = (
        services.visible_to(user)
        .filter(center=user.center, created_at__date__gte=timezone.localdate())
        .order_by("-created_at")[:15]
    )
    return render(
        request,
        "applications/counter.html",
        {
            "query": query,
            "results": results,
            "searched": bool(query),
            "form": form,
            "recent": recent,
            "today": timezone.localdate(),
        },
    )


@staff_view
def citizen(request: HttpRequest, user: User, pk: Any) -> HttpResponse:
    person = get_object_or_404(Citizen, pk=pk)
    applications = services.visible_to(user).filter(applicant=person).order_by("-created_at")[:100]
    language = _language()
    offer: list[dict[str, Any]] = []
    if user.has_role(roles.CLERK) and user.center_id:
        today = timezone.localdate()
        for svc in (
            Service.objects.filter(active=True)
            .select_related("agency")
            .prefetch_related("fees")
            .order_by("agency__code", "code")
        ):
            offer.append(
                {
                    "service": svc,
                    "name": svc.name(language),
                    "agency": svc.agency.name_en if language == "en" else svc.agency.name_ar,
                    "fee": svc.fee_on(today),
                }
            )
    return render(
        request,
        "applications/citizen.html",
        {
            "person": person,
            "applications": applications,
            "offer": offer,
            "today": timezone.localdate(),
        },
    )


@staff_view
@require_http_methods(["GET", "POST"])
def new_application(request: HttpRequest, user: User, pk: Any, service: str) -> HttpResponse:
    require_role(user, roles.CLERK)
    if user.center is None:
        return _forbidden(
            request, _("Your account is not attached to a center. Ask an administrator.")
        )
    require_center(user, user.center)
    assert user.center is not None
    person = get_object_or_404(Citizen, pk=pk)
    svc = get_object_or_404(
        Service.objects.select_related("agency").prefetch_related("fields", "attachments", "fees"),
        code=service,
        active=True,
    )
    language = _language()
    kwargs: dict[str, Any] = {"service": svc, "home_center": user.center, "language": language}
    if request.method == "POST":
        token = request.POST.get("token", "")
        key = _idempotency_key(user, token)
        done = Application.objects.filter(idempotency_key=key).first() if key else None
        if done is not None:  # the same form sent twice: show the first result
            return redirect("applications:detail", reference=done.reference)
        form = ApplicationForm(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            try:
                app = services.submit_application(
                    user,
                    services.Submission(
                        service=svc,
                        applicant=person,
                        center=user.center,
                        fields=form.field_values,
                        delivery_mode=form.cleaned_data["delivery_mode"],
                        pickup_center=form.cleaned_data.get("pickup_center"),
                        delivery_address=form.delivery_address(),
                        attachments=form.uploads,
                        idempotency_key=key,
                        note=form.cleaned_data.get("note", ""),
                    ),
                )
            except NotAllowed:
                raise
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            except ValidationError as exc:  # the catalog changed between display and submit
                form.add_error(None, exc.messages)
            else:
                messages.success(
                    request,
                    _("Application %(reference)s submitted. Next: payment at the cash desk.")
                    % {"reference": app.reference},
                )
                return redirect("applications:detail", reference=app.reference)
        if key is None:  # an expired or forged token: the next try gets a fresh one
            token = new_token()
    else:
        token = new_token()
        form = ApplicationForm(**kwargs)
    return render(
        request,
        "applications/new.html",
        {
            "person": person,
            "service": svc,
            "service_name": svc.name(language),
            "fee": svc.fee_on(timezone.localdate()),
            "form": form,
            "token": token,
        },
    )


def _idempotency_key(user: User, token: str) -> str | None:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        return None
    return f"counter:{user.pk}:{token}"


# ---------------------------------------------------------------- detail and actions


@dataclass(frozen=True)
class ActionButton:
    name: str
    label: str
    kind: str  # "act" (POST here), "issue" (POST documents), "link"
    url: str
    note: str = ""  # "", "optional" or "required"
    danger: bool = False


def _buttons(user: User, app: Application, receipts: list[Any]) -> list[ActionButton]:
    buttons: list[ActionButton] = []
    for t in available(app.status):
        if not may_take(user, app, t):
            continue
        buttons.extend(_button_for(t, app, receipts))
    return buttons


def _button_for(t: Transition, app: Application, receipts: list[Any]) -> list[ActionButton]:
    label = str(t.label)
    danger = t.name in DANGER
    if t.name in ACTIONS:
        note = (
            "required" if t.name in NOTE_REQUIRED else "optional" if t.name in NOTE_OPTIONAL else ""
        )
        url = reverse("applications:act", args=[app.reference, t.name])
        return [ActionButton(t.name, label, "act", url, note, danger)]
    if t.name == "pay":
        return [
            ActionButton(
                t.name, label, "link", reverse("payments:take_payment", args=[app.reference])
            )
        ]
    if t.name == "issue":
        return [
            ActionButton(t.name, label, "issue", reverse("documents:issue", args=[app.reference]))
        ]
    if t.name == "hand_over":
        return [
            ActionButton(t.name, label, "link", reverse("delivery:handover", args=[app.reference]))
        ]
    if t.name == "dispatch":  # a POST form, like "issue"
        return [
            ActionButton(t.name, label, "issue", reverse("delivery:dispatch", args=[app.reference]))
        ]
    if t.name == "resubmit":
        return [
            ActionButton(
                t.name, label, "link", reverse("applications:resubmit", args=[app.reference])
            )
        ]
    if t.name == "cancel_with_refund":
        return [
            ActionButton(
                t.name, label, "link", reverse("payments:refund", args=[r.number]), danger=True
            )
            for r in receipts
        ]
    return []  # route_to_pickup (right after issuing), deliver, return_to_sender: system steps


@staff_view
def detail(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    app = _visible_application(user, reference)
    language = _language()
    today = timezone.localdate()
    labels = {f.name: f.label(language) for f in app.service.fields.all()}
    values = [
        (labels.get(name, name), value)
        for name, value in sorted(
            app.field_values.items(),
            key=lambda kv: list(labels).index(kv[0]) if kv[0] in labels else len(labels),
        )
    ]
    attachment_labels = {a.code: a.label(language) for a in app.service.attachments.all()}
    current = {a.pk for a in services.current_attachments(app)}
    attachments = [  # every upload, oldest first; a resubmission's replacement is the current
        (attachment_labels.get(a.code, a.code), a, a.pk in current)
        for a in app.attachments.order_by("created_at", "id")
    ]
    receipts = list(app.receipts.prefetch_related("refunds").order_by("issued_at"))
    document = _document_of(app)
    may_revoke = document is not None and _may_revoke(user, document)
    statuses = {value: str(label) for value, label in Status.choices}
    return render(
        request,
        "applications/detail.html",
        {
            "app": app,
            "service_name": app.service.name(language),
            "values": values,
            "attachments": attachments,
            "events": [
                {
                    "event": ev,
                    "step": _step_label(ev.action),
                    "from": statuses.get(ev.from_status, ev.from_status),
                    "to": statuses.get(ev.to_status, ev.to_status),
                }
                for ev in app.events.select_related("actor").order_by("created_at", "id")
            ],
            "receipts": receipts,
            "document": document,
            "shipment": _shipment_of(app),
            "may_revoke": may_revoke,
            "overdue": app.status in OPEN_STATES and app.sla_due < today,
            "days_late": (today - app.sla_due).days,
            "buttons": _buttons(user, app, receipts),
            # What the service's rules show (water: inspection, meter, arrears; hooks).
            "service_panel": hooks.detail_panel(user, app),
        },
    )


def _step_label(action: str) -> str:
    if action == "submit":
        return _("Submit")
    t = TRANSITIONS.get(action)
    return str(t.label) if t else action


def _may_revoke(user: User, document: Any) -> bool:
    from baladiya.documents.services import can_revoke

    return can_revoke(user, document)


def _shipment_of(app: Application) -> Any:
    from baladiya.delivery.post.models import Shipment

    return Shipment.objects.filter(application=app).prefetch_related("events").first()


def _document_of(app: Application) -> Any:
    from baladiya.documents.models import IssuedDocument

    return IssuedDocument.objects.filter(application=app).first()


@staff_view
@require_POST
def act(request: HttpRequest, user: User, reference: str, action: str) -> HttpResponse:
    app = _visible_application(user, reference)
    take = ACTIONS.get(action)
    if take is None:
        raise Http404
    t = transition(action)
    if not (t.roles & user.role_codes()) and not user.has_role(roles.ADMIN):
        return _forbidden(request, _("Your role does not allow this action."))
    note = (request.POST.get("note") or "").strip()[:2000]
    detail_url = reverse("applications:detail", args=[app.reference])
    try:
        take(app, user, note)
    except NotAllowed as exc:
        return _forbidden(request, str(exc.message))
    except DomainError as exc:  # illegal transition, missing note: nothing was changed
        messages.error(request, str(exc.message))
        return redirect(detail_url)
    messages.success(
        request,
        _("%(action)s: %(reference)s is now “%(status)s”.")
        % {"action": t.label, "reference": app.reference, "status": Status(app.status).label},
    )
    return redirect(_safe_next(request, detail_url))


@staff_view
@require_http_methods(["GET", "POST"])
def resubmit(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    """A returned application, corrected at the counter (fields, new copies of papers) and
    sent back for review."""
    app = _visible_application(user, reference)
    t = transition("resubmit")
    if not may_take(user, app, t):
        return _forbidden(request, _("Your role does not allow this action."))
    language = _language()
    if request.method == "POST":
        form = ResubmitForm(request.POST, request.FILES, service=app.service, language=language)
        if form.is_valid():
            try:
                services.resubmit(
                    app,
                    user,
                    form.field_values,
                    form.cleaned_data.get("note", ""),
                    attachments=form.uploads,
                )
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except ValidationError as exc:  # the catalog changed between display and submit
                messages.error(request, " ".join(exc.messages))
                return redirect("applications:detail", reference=app.reference)
            except DomainError as exc:
                messages.error(request, str(exc.message))
                return redirect("applications:detail", reference=app.reference)
            messages.success(request, _("The corrected application was sent back for review."))
            return redirect("applications:detail", reference=app.reference)
    else:
        form = ResubmitForm(
            initial=field_values_for_form(app.service, app.field_values),
            service=app.service,
            language=language,
        )
    return render(
        request,
        "applications/resubmit.html",
        {
            "app": app,
            "form": form,
            "service_name": app.service.name(language),
            "return_note": services.return_note(app),
        },
    )


@staff_view
def attachment(request: HttpRequest, user: User, reference: str, pk: Any) -> HttpResponseBase:
    app = _visible_application(user, reference)
    att = get_object_or_404(Attachment, pk=pk, application=app)
    try:
        handle = att.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, content_type=att.content_type, as_attachment=True, filename=att.original_name
    )
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- supervision


@staff_view
def supervisor(request: HttpRequest, user: User) -> HttpResponse:
    require_role(user, roles.SUPERVISOR, roles.ADMIN, roles.AUDITOR)
    language = _language()
    today = timezone.localdate()
    filters = QueueFilterForm(request.GET or None, user=user, language=language)
    scope = services.visible_to(user).select_related("pickup_center")
    if filters.is_valid():
        data = filters.cleaned_data
        if data.get("center"):
            scope = scope.filter(center=data["center"])
        if data.get("service"):
            scope = scope.filter(service=data["service"])
        status = data.get("status") or ""
    else:
        status = ""
    listed = scope.filter(status=status) if status else scope
    overdue = (listed & services.overdue(today)).order_by("sla_due", "created_at")
    overdue_page = _page(request, overdue, "opage")
    overdue_rows = [(app, (today - app.sla_due).days) for app in overdue_page.object_list]
    in_review = scope.filter(status=Status.IN_REVIEW).order_by("created_at")
    work = reports.work_by_day(scope, reports.last_days(today))
    return render(
        request,
        "applications/supervisor.html",
        {
            "filters": filters,
            "work": work,
            "work_chart": work_chart(work),
            "counts": [
                {**row, "cells": [row[f"n_{value}"] for value in Status.values]}
                for row in services.counts_by_center(scope, today)
            ],
            "statuses": Status.choices,
            "overdue_page": overdue_page,
            "overdue_rows": overdue_rows,
            "review_page": _page(request, in_review, "rpage"),
            "list_page": _page(request, listed.order_by("-created_at"), "page"),
            "status": status,
            "today": today,
            "language": language,
        },
    )


def work_chart(days: list[reports.DayWork], height: int = 150) -> dict[str, Any]:
    """Geometry of an inline SVG chart: per day, a bar for the applications received and one
    for the documents issued, on one scale (left to right: oldest to today)."""
    top = max((max(d.received, d.issued) for d in days), default=0) or 1
    slot, bar, base = 30, 11, height - 20

    def length(n: int) -> int:
        return round((base - 14) * n / top)

    items = []
    for i, d in enumerate(days):
        x = 8 + i * slot
        received, issued = length(d.received), length(d.issued)
        items.append(
            {
                "d": d,
                "x": x,
                "received_y": base - received,
                "received_h": received,
                "issued_x": x + bar + 2,
                "issued_y": base - issued,
                "issued_h": issued,
                "w": bar,
                "label_x": x + bar + 1,
            }
        )
    return {"days": items, "width": 16 + len(days) * slot, "height": height, "base": base}


@staff_view
def back_office(request: HttpRequest, user: User) -> HttpResponse:
    require_role(user, roles.OFFICER, roles.ADMIN)
    today = timezone.localdate()
    page = _page(request, services.back_office_queue(user))
    start, issue = transition("start_review"), transition("issue")
    rows = [
        {
            "app": app,
            "name": app.service.name(_language()),
            "overdue": app.sla_due < today,
            "may_start": app.status == Status.PAID and may_take(user, app, start),
            "may_issue": app.status == Status.APPROVED and may_take(user, app, issue),
        }
        for app in page.object_list
    ]
    return render(
        request,
        "applications/back_office.html",
        {"page": page, "rows": rows, "today": today, "agency": user.agency},
    )
