"""Online payment screens: start (redirect to the gateway), return, webhook, the sandbox
gateway's hosted page, and the finance officer's settlement reconciliation.

Views parse, authorize, call `payments.gateways.services`, render. Every refusal is a clear
message in the user's language (the webhook answers the gateway in JSON), never a 500.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.accounts import roles
from baladiya.accounts.permissions import can_view_application, citizen_of, require_role
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.core.money import format_pounds
from baladiya.payments import services as payments
from baladiya.payments.forms import new_form_token
from baladiya.payments.gateways import purposes, registry, sandbox, services
from baladiya.payments.gateways.base import BadSignature
from baladiya.payments.gateways.forms import SettlementImportForm, SettlementQueryForm
from baladiya.payments.gateways.settlement import (
    AMOUNT_DIFFERS,
    MISSING_GATEWAY,
    MISSING_OURS,
    Mismatch,
    SettlementReport,
    settlement_report,
)
from baladiya.payments.models import IntentStatus, PaymentIntent

logger = logging.getLogger(__name__)
RETRY_STATES = {IntentStatus.DECLINED, IntentStatus.ABANDONED, IntentStatus.EXPIRED}


def _login_url() -> str:
    try:
        return reverse("portal:login")
    except NoReverseMatch:
        return str(settings.LOGIN_URL)


def _application_page(user: Any, app: Application) -> str:
    """Where a payer goes back to: the citizen portal's page, or the staff detail page."""
    if citizen_of(user) is not None:
        try:
            return reverse("portal:application", kwargs={"reference": app.reference})
        except NoReverseMatch:
            return reverse("core:home")
    return reverse("applications:detail", kwargs={"reference": app.reference})


def _visible_application(request: HttpRequest, reference: str) -> Application:
    app = (
        Application.objects.select_related("service", "applicant", "center")
        .filter(reference=reference)
        .first()
    )
    if app is None or not can_view_application(request.user, app):
        raise Http404
    return app


# ---------------------------------------------------------------- payer side


@require_POST
def online_start(request: HttpRequest, reference: str) -> HttpResponse:
    """POST `idempotency_key` (a form token) and optionally `gateway`; redirects to the
    gateway's page, or back to the application with the reason it cannot be paid."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url())
    app = _visible_application(request, reference)
    back = _application_page(request.user, app)
    try:
        start = services.start_online_payment(
            app,
            request.user,
            gateway=request.POST.get("gateway") or None,
            return_url=request.build_absolute_uri(reverse("payments:online_return")),
            idempotency_key=_scoped_key(request),
        )
    except payments.AlreadyPaid as exc:
        messages.info(request, str(exc.message))
        return redirect(back)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    return redirect(start.redirect_url)


def _scoped_key(request: HttpRequest) -> str | None:
    """The form token scoped to the caller (as the portal's apply and the API do): one
    citizen's token can never collide with or replay another's payment."""
    token = (request.POST.get("idempotency_key") or "").strip()
    return f"web:{request.user.pk}:{token}" if token else None


def _intent_from(request: HttpRequest) -> PaymentIntent:
    try:
        intent_id = uuid.UUID(request.GET.get("intent", ""))
    except ValueError:
        raise Http404 from None
    intent = (
        PaymentIntent.objects.select_related("application__service", "receipt")
        .filter(pk=intent_id)
        .first()
    )
    if intent is None:
        raise Http404
    return intent


@require_GET
def online_return(request: HttpRequest) -> HttpResponse:
    """The gateway sends the payer's browser here (`?intent=<id>`). If the webhook has not
    arrived yet the gateway is asked; the page says plainly where the payment stands."""
    intent = _intent_from(request)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url())
    app = intent.application
    if app is None:
        return _purpose_return(request, intent)
    if not (can_view_application(request.user, app) or intent.started_by_id == request.user.pk):
        raise Http404
    intent = services.check_intent(intent)
    app.refresh_from_db()
    may_retry = (
        intent.status in RETRY_STATES
        and app.status == Status.SUBMITTED
        and services.may_pay_online(request.user, app)
    )
    response = render(
        request,
        "payments/online_return.html",
        {
            "intent": intent,
            "app": app,
            "receipt": intent.receipt,
            "next_url": _application_page(request.user, app),
            "is_staff_user": citizen_of(request.user) is None,
            "may_retry": may_retry,
            "token": new_form_token(),
        },
    )
    if intent.is_open:
        response["Refresh"] = "5"  # check again shortly, without JavaScript
    return response


def _purpose_return(request: HttpRequest, intent: PaymentIntent) -> HttpResponse:
    """The return page of a payment of something else (water bills): its purpose says who
    may see it and where the payer goes next."""
    purpose = purposes.purpose_of(intent)
    if not (intent.started_by_id == request.user.pk or purpose.may_view(request.user, intent)):
        raise Http404
    intent = services.check_intent(intent)
    response = render(
        request,
        "payments/online_return.html",
        {
            "intent": intent,
            "app": None,
            "receipt": intent.receipt,
            "next_url": purpose.next_url(intent, request.user),
            "is_staff_user": citizen_of(request.user) is None,
            "may_retry": False,
        },
    )
    if intent.is_open:
        response["Refresh"] = "5"
    return response


# ---------------------------------------------------------------- gateway side


@csrf_exempt
@require_POST
def gateway_webhook(request: HttpRequest, gateway: str) -> HttpResponse:
    """The gateway's notification. The signature is checked before anything is read; the
    answer is JSON (2xx: done, 4xx: refused, 409: not yet, retry later)."""
    try:
        outcome = services.handle_webhook(gateway, request.headers, request.body)
    except BadSignature as exc:
        logger.warning(
            "refused %s webhook from %s: %s", gateway, request.META.get("REMOTE_ADDR"), exc
        )
        return _json_error(exc)
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse({"status": outcome})


def _json_error(exc: DomainError) -> JsonResponse:
    return JsonResponse(
        {"code": exc.code, "message": str(exc.message)},
        status=exc.status,
        json_dumps_params={"ensure_ascii": False},
    )


@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The sandbox gateway's hosted payment page (a test page: no real money)."""
    if not registry.sandbox_enabled():
        raise Http404
    payment = sandbox.hosted_payment(payment_id)
    if payment is None:
        raise Http404
    timed_out = False
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in sandbox.ACTIONS:
            status = 400
        else:
            payment = sandbox.act(payment_id, action)
            if action == "timeout" and payment.state == payment.State.PENDING:
                timed_out = True
            elif payment.state != payment.State.EXPIRED:
                return redirect(payment.return_url)
    return render(
        request,
        "payments/sandbox_pay.html",
        {"payment": payment, "timed_out": timed_out, "bad_choice": status == 400},
        status=status,
    )


# ---------------------------------------------------------------- finance


@require_http_methods(["GET", "POST"])
def settlements(request: HttpRequest) -> HttpResponse:
    """Import a gateway's daily settlement file and list what does not match our books."""
    user = require_role(request.user, roles.FINANCE, roles.ADMIN, roles.SUPERVISOR, roles.AUDITOR)
    may_import = services.may_import_settlements(user)
    import_form = SettlementImportForm()
    status = 200
    if request.method == "POST":
        if not may_import:
            raise NotAllowed(_("Only a finance officer imports settlement files."))
        import_form = SettlementImportForm(request.POST, request.FILES)
        if import_form.is_valid():
            data = import_form.cleaned_data
            upload = data.get("file")
            try:
                imp = services.import_settlement(
                    data["gateway"], data["date"], user, upload.read() if upload else None
                )
            except DomainError as exc:
                import_form.add_error(None, str(exc.message))
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Settlement file of %(day)s imported: %(count)s lines.")
                    % {"day": imp.day.isoformat(), "count": imp.line_count},
                )
                return redirect(
                    f"{reverse('payments:settlements')}?gateway={imp.gateway}"
                    f"&date={imp.day.isoformat()}"
                )
        else:
            status = 400
    query = SettlementQueryForm(request.GET or None)
    gateway, day = query.gateway_name(), query.day()
    report = settlement_report(gateway, day) if gateway else None
    if request.method == "GET":
        import_form = SettlementImportForm(initial={"gateway": gateway, "date": day})
    return render(
        request,
        "payments/settlements.html",
        {
            "query": query,
            "import_form": import_form,
            "may_import": may_import,
            "gateway": gateway,
            "day": day,
            "previous_day": day.fromordinal(day.toordinal() - 1),
            "next_day": day.fromordinal(day.toordinal() + 1),
            "report": report,
            "groups": _mismatch_groups(report),
        },
        status=status,
    )


def _mismatch_groups(report: SettlementReport | None) -> list[tuple[str, str, list[Mismatch]]]:
    if report is None:
        return []
    titles = [
        (MISSING_OURS, _("Missing on our side (the gateway took or gave back money)")),
        (MISSING_GATEWAY, _("Missing at the gateway (we recorded money it does not list)")),
        (AMOUNT_DIFFERS, _("Amount differs")),
    ]
    return [(kind, title, rows) for kind, title in titles if (rows := report.of_kind(kind))]


@require_POST
def intent_refresh(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    """Ask the gateway about one payment now (a webhook that never came)."""
    require_role(request.user, roles.FINANCE, roles.ADMIN, roles.SUPERVISOR)
    intent = PaymentIntent.objects.filter(pk=pk).select_related("application").first()
    if intent is None:
        raise Http404
    intent = services.refresh_intent(intent, expire=False)
    messages.info(
        request,
        _("Online payment of %(reference)s (%(amount)s): %(status)s.")
        % {
            "reference": intent.label,
            "amount": format_pounds(intent.amount),
            "status": intent.status_label,
        },
    )
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("payments:settlements")
