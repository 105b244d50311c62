"""Cash desk screens. Views parse, authorize, call `payments.services`, render.

Every form works without JavaScript; the first field or the confirm button has autofocus so a
cashier can work from the keyboard (type a reference, Enter, Enter).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import require_center, require_role
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.money import format_pounds, to_latin_digits
from baladiya.payments import reports, services
from baladiya.payments.forms import (
    CloseSessionForm,
    OpenSessionForm,
    ReconciliationForm,
    RefundForm,
    new_form_token,
)
from baladiya.payments.gateways.registry import gateway_choices
from baladiya.payments.models import CashierSession, Receipt

AWAITING_LIMIT = 50


def _cashier(request: HttpRequest) -> tuple[User, Center]:
    """The acting cashier and their center (a cashier without one cannot work the desk)."""
    staff = require_role(request.user, roles.CASHIER)
    if staff.center is None:
        raise NotAllowed(_("Your account is not attached to a center: ask an administrator."))
    return staff, staff.center


# ---------------------------------------------------------------- the desk


@login_required
@require_GET
def cashier(request: HttpRequest) -> HttpResponse:
    staff, center = _cashier(request)
    query = to_latin_digits(request.GET.get("q", "")).strip().upper()[:40]
    if query:
        found = Application.objects.filter(center=center, reference=query).first()
        if found is not None and found.status == Status.SUBMITTED:
            return redirect("payments:take_payment", reference=found.reference)
        if found is not None:
            paid = found.receipts.order_by("issued_at").first()
            messages.info(
                request,
                _("%(reference)s is “%(status)s”%(receipt)s.")
                % {
                    "reference": found.reference,
                    "status": found.status_label,
                    "receipt": _(", receipt %(number)s") % {"number": paid.number} if paid else "",
                },
            )
    return _desk(request, staff, center, query=query)


def _desk(
    request: HttpRequest,
    staff: User,
    center: Center,
    *,
    query: str = "",
    open_form: OpenSessionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    session = services.current_session(staff)
    awaiting = (
        Application.objects.filter(center=center, status=Status.SUBMITTED)
        .select_related("service", "applicant")
        .order_by("created_at")
    )
    if query:
        awaiting = awaiting.filter(
            Q(reference__icontains=query) | Q(applicant__national_number__startswith=query)
        )
    context: dict[str, Any] = {
        "session": session,
        "open_form": open_form or OpenSessionForm(),
        "awaiting": list(awaiting[:AWAITING_LIMIT]),
        "awaiting_more": awaiting.count() > AWAITING_LIMIT,
        "query": query,
        "center": center,
    }
    if session is not None:
        context["totals"] = services.session_totals(session)
        context["stale"] = session.business_date != timezone.localdate()
        context["receipts"] = list(
            session.receipts.select_related("application").order_by("-issued_at")[:30]
        )
        context["refunds"] = list(session.refunds.select_related("receipt").order_by("-issued_at"))
    return render(request, "payments/cashier.html", context, status=status)


@login_required
@require_POST
def open_session(request: HttpRequest) -> HttpResponse:
    staff, center = _cashier(request)
    form = OpenSessionForm(request.POST)
    if not form.is_valid():
        return _desk(request, staff, center, open_form=form, status=400)
    try:
        session = services.open_session(staff, form.cleaned_data["opening_float"])
    except services.SessionAlreadyOpen as exc:
        messages.info(request, str(exc.message))
        return redirect("payments:cashier")
    except DomainError as exc:
        form.add_error(None, str(exc.message))
        return _desk(request, staff, center, open_form=form, status=exc.status)
    messages.success(
        request,
        _("Cash session opened with a float of %(amount)s.")
        % {"amount": format_pounds(session.opening_float)},
    )
    return redirect("payments:cashier")


@login_required
@require_http_methods(["GET", "POST"])
def close_session(request: HttpRequest) -> HttpResponse:
    """Close the user's own open drawer, or (supervisors) the one given by `?session=`."""
    staff = require_role(request.user, roles.CASHIER, roles.SUPERVISOR, roles.ADMIN)
    session = _session_to_close(request, staff)
    if session is None:
        messages.info(request, _("You have no open cash session."))
        return redirect("payments:cashier")
    form = CloseSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            closed = services.close_session(session, staff, form.cleaned_data["counted_cash"])
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _closed_message(closed))
            if closed.cashier_id == staff.pk:
                return redirect("payments:cashier")
            return redirect(
                f"{reverse('payments:reconciliation')}?center={closed.center.code}"
                f"&date={closed.business_date.isoformat()}"
            )
    return render(
        request,
        "payments/close_session.html",
        {"session": session, "totals": services.session_totals(session), "form": form},
        status=400 if form.errors else 200,
    )


def _session_to_close(request: HttpRequest, user: User) -> CashierSession | None:
    wanted = request.POST.get("session") or request.GET.get("session")
    if not wanted:
        return services.current_session(user) if user.has_role(roles.CASHIER) else None
    try:
        session = CashierSession.objects.select_related("center", "cashier").get(pk=wanted)
    except (CashierSession.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None
    if session.cashier_id != user.pk and not services.supervises(user, session.center_id):
        raise NotAllowed(_("Only the drawer's cashier or a supervisor of its center may close it."))
    if session.state != CashierSession.State.OPEN:
        messages.info(request, _("This cash session is already closed."))
        return None
    return session


def _closed_message(session: CashierSession) -> str:
    over_short = session.over_short or 0
    if over_short == 0:
        verdict = _("the drawer balances")
    elif over_short > 0:
        verdict = _("over by %(amount)s") % {"amount": format_pounds(over_short)}
    else:
        verdict = _("short by %(amount)s") % {"amount": format_pounds(-over_short)}
    return _("Cash session closed: expected %(expected)s, counted %(counted)s — %(verdict)s.") % {
        "expected": format_pounds(session.expected_cash or 0),
        "counted": format_pounds(session.counted_cash or 0),
        "verdict": verdict,
    }


# ---------------------------------------------------------------- payment


@login_required
@require_http_methods(["GET", "POST"])
def take_payment(request: HttpRequest, reference: str) -> HttpResponse:
    staff, _center = _cashier(request)
    app = get_object_or_404(
        Application.objects.select_related("service", "applicant", "center"),
        reference=reference,
    )
    require_center(staff, app.center)
    error = ""
    status = 200
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "")
        try:
            receipt = services.record_cash_payment(app, staff, idempotency_key=key)
        except services.AlreadyPaid as exc:
            messages.info(request, str(exc.message))
            return redirect("payments:receipt", number=exc.receipt.number)
        except DomainError as exc:
            error, status = str(exc.message), exc.status
        else:
            messages.success(
                request,
                _("Payment recorded: receipt %(number)s, %(amount)s.")
                % {"number": receipt.number, "amount": format_pounds(receipt.amount)},
            )
            return redirect("payments:receipt", number=receipt.number)
    session = services.current_session(staff)
    return render(
        request,
        "payments/take_payment.html",
        {
            "app": app,
            "session": session,
            "stale": session is not None and session.business_date != timezone.localdate(),
            "receipt": app.receipts.order_by("issued_at").first(),
            "payable": app.status == Status.SUBMITTED,
            "token": new_form_token(),
            "online_token": new_form_token(),
            "online_gateways": gateway_choices(),
            "error": error,
        },
        status=status,
    )


# ---------------------------------------------------------------- receipts


def _receipt(request: HttpRequest, number: str) -> Receipt:
    receipt = get_object_or_404(
        Receipt.objects.select_related("center", "application__service", "issued_by", "session"),
        number=number,
    )
    services.require_view_receipt(request.user, receipt)
    return receipt


@login_required
@require_GET
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    rec = _receipt(request, number)
    refunds = list(rec.refunds.select_related("issued_by").order_by("issued_at"))
    left = rec.amount - sum(r.amount for r in refunds)
    may_refund = left > 0 and services.can_refund(request.user, rec)
    form = RefundForm(initial={"idempotency_key": new_form_token()})
    return render(
        request,
        "payments/receipt.html",
        {
            "receipt": rec,
            "refunds": refunds,
            "left": left,
            "may_refund": may_refund,
            "may_cancel": may_refund and services.may_cancel_with_refund(rec.application),
            "form": form,
        },
    )


@login_required
@require_GET
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    rec = _receipt(request, number)
    response = HttpResponse(services.receipt_pdf(rec), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{rec.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def refund(request: HttpRequest, number: str) -> HttpResponse:
    rec = _receipt(request, number)
    staff = require_role(request.user, roles.CASHIER, roles.SUPERVISOR, roles.ADMIN)
    form = RefundForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("payments:receipt", number=rec.number)
    data = form.cleaned_data
    try:
        if data["cancel_application"] and rec.application is not None:
            done = services.cancel_with_refund(rec.application, staff, data["reason"])
            messages.success(
                request,
                _("Application %(reference)s cancelled; refund %(number)s of %(amount)s.")
                % {
                    "reference": rec.application.reference,
                    "number": done.number,
                    "amount": format_pounds(done.amount),
                },
            )
        else:
            done = services.refund_receipt(
                rec,
                staff,
                data["reason"],
                data["amount"],
                idempotency_key=data["idempotency_key"],
            )
            messages.success(
                request,
                _("Refund %(number)s of %(amount)s recorded.")
                % {"number": done.number, "amount": format_pounds(done.amount)},
            )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("payments:receipt", number=rec.number)


# ---------------------------------------------------------------- reconciliation


@login_required
@require_GET
def reconciliation(request: HttpRequest) -> HttpResponse:
    user = require_role(request.user, roles.SUPERVISOR, roles.AUDITOR, roles.ADMIN)
    centers = reports.reconciliation_centers(user)
    form = ReconciliationForm(request.GET or None)
    day = form.day()
    code = (form.cleaned_data.get("center") if form.is_valid() else "") or ""
    code = code.strip().upper()
    all_allowed = len(centers) > 1
    if not code and not all_allowed and centers:
        code = centers[0].code
    context: dict[str, Any] = {
        "form": form,
        "centers": centers,
        "all_allowed": all_allowed,
        "day": day,
        "code": code,
        "previous_day": day.fromordinal(day.toordinal() - 1),
        "next_day": day.fromordinal(day.toordinal() + 1),
    }
    if code:
        center = next((c for c in centers if c.code == code), None)
        if center is None:
            if Center.objects.filter(code=code).exists():
                raise NotAllowed(_("You may only see your own center's reconciliation."))
            raise Http404
        rec = reports.daily_reconciliation(center, day)
        context["rec"] = rec
        context["chart"] = hour_chart(rec.by_hour)
        context["may_close"] = services.supervises(user, center.pk)
    else:
        context["network"] = reports.network_reconciliation(centers, day)
    return render(request, "payments/reconciliation.html", context)


def hour_chart(bars: list[reports.HourBar], height: int = 140) -> dict[str, Any]:
    """Geometry of a small inline SVG bar chart of receipts (amount) per local hour.

    Shows working hours 7–18, widened to any hour that has receipts.
    """
    busy = [b.hour for b in bars if b.count]
    first = min([7, *busy])
    last = max([18, *busy])
    shown = [b for b in bars if first <= b.hour <= last]
    top = max((b.amount for b in shown), default=0) or 1
    slot, width, base = 34, 24, height - 20
    items = []
    for i, bar in enumerate(shown):
        h = round((base - 10) * bar.amount / top) if bar.amount else 0
        items.append(
            {
                "x": 10 + i * slot,
                "y": base - h,
                "w": width,
                "h": h,
                "hour": f"{bar.hour:02d}",
                "label_x": 10 + i * slot + width // 2,
                "count": bar.count,
                "amount": format_pounds(bar.amount),
            }
        )
    return {"bars": items, "width": 20 + len(shown) * slot, "height": height, "base": base}
