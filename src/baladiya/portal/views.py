"""The electronic center, for citizens: catalog, login by SMS code, apply, follow, download.

Views parse, authorize and render; writes go through `accounts.otp`, `accounts.services`,
`portal.services` and, for correcting or cancelling one's own application,
`applications.services` (the citizen rule is `accounts.permissions.citizen_refusal`). Every page works without JavaScript. A citizen only ever reaches their own
applications: any other reference answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.accounts import otp
from baladiya.accounts import services as accounts
from baladiya.accounts.models import User
from baladiya.accounts.permissions import (
    citizen_of,
    citizen_refusal,
    is_citizen_account,
    may_take,
)
from baladiya.applications import services as applications_services
from baladiya.applications.forms import ResubmitForm, field_values_for_form, new_token
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status, check_transition, transition
from baladiya.catalog.models import DeliveryMode, Service
from baladiya.core.errors import DomainError, IllegalTransition, NotAllowed, NotFound
from baladiya.payments import services as payments
from baladiya.portal import services
from baladiya.portal.forms import (
    CancelForm,
    CodeForm,
    PhoneForm,
    PortalApplicationForm,
    ProfileForm,
    TrackForm,
)

OTP_PHONE = "portal_otp_phone"
NEXT = "portal_next"
PAGE_SIZE = 30


def _language() -> str:
    return get_language() or "ar"


def _safe_next(request: HttpRequest, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


def citizen_view(*, profile: bool = True) -> Callable[..., Callable[..., HttpResponseBase]]:
    """Logged in with a citizen account (staff accounts are refused); with `profile`, the
    national number is known too. The view gets the User."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "portal:login")
            if not isinstance(user, User) or not is_citizen_account(user):
                return _forbidden(
                    request,
                    _("Staff accounts cannot use the citizen portal. Log out to use it."),
                )
            if profile and citizen_of(user) is None:
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('portal:profile')}?{query}")
            return view(request, user, *args, **kwargs)

        return wrapper

    return decorate


# ---------------------------------------------------------------- public pages


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"q": ""})


@require_GET
def services_list(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:100]
    language = _language()
    rows = [
        {
            "service": svc,
            "name": svc.name(language),
            "agency": svc.agency.name_en if language == "en" else svc.agency.name_ar,
            "fee": sum(f.amount for f in services.fees_today(svc)),
        }
        for svc in services.search_services(query)
    ]
    return render(request, "portal/services.html", {"rows": rows, "q": query})


def _active_service(code: str) -> Service:
    return get_object_or_404(services.active_services(), code=code)


@require_GET
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    svc = _active_service(code)
    language = _language()
    fees = services.fees_today(svc)
    return render(
        request,
        "portal/service.html",
        {
            "service": svc,
            "name": svc.name(language),
            "agency": svc.agency.name_en if language == "en" else svc.agency.name_ar,
            "description": svc.description_en if language == "en" else svc.description_ar,
            "fees": [(f.label_en if language == "en" else f.label_ar, f.amount) for f in fees],
            "fee_total": sum(f.amount for f in fees),
            "fields": [(f.label(language), f) for f in svc.fields.all()],
            "papers": [(a.label(language), a) for a in svc.attachments.all()],
            "modes": [m.label for m in DeliveryMode if m.value in (svc.delivery_modes or [])],
            "centers": services.pickup_centers() if "pickup" in svc.delivery_modes else [],
            "language": language,
        },
    )


@sensitive_post_parameters("phone")
@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Status without login: reference + mobile. One answer for a wrong one of either."""
    form = TrackForm(request.POST if request.method == "POST" else None)
    found: Application | None = None
    status = 200
    looked_up = False
    if request.method == "POST" and form.is_valid():
        try:
            found = services.track(
                form.cleaned_data["reference"],
                form.cleaned_data["phone"],
                accounts.client_ip(request),
            )
        except services.TrackThrottled as exc:
            form.add_error(None, str(exc.message))
            status = 429
        else:
            looked_up = True
            if found is None:
                status = 404
    context: dict[str, Any] = {"form": form, "found": found, "looked_up": looked_up}
    if found is not None:
        context["history"] = services.citizen_history(found, with_notes=False)
        context["service_name"] = found.service.name(_language())
    return render(request, "portal/track.html", context, status=status)


# ---------------------------------------------------------------- login by SMS code


@sensitive_post_parameters("phone")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1: the mobile number. Sign-up and login are the same: a code is sent either way."""
    if request.method == "GET":
        target = _safe_next(request, request.GET.get("next"))
        if target:
            request.session[NEXT] = target
        if is_citizen_account(request.user):
            return redirect(request.session.pop(NEXT, "") or "portal:applications")
    form = PhoneForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            otp.request_code(phone, accounts.client_ip(request))
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            status = exc.status
        else:
            request.session[OTP_PHONE] = phone
            return redirect("portal:verify")
    return render(request, "portal/login.html", {"form": form}, status=status)


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Step 2: the code. The first success creates the account; then the profile."""
    phone = request.session.get(OTP_PHONE)
    if not phone:
        return redirect("portal:login")
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = otp.verify_code(phone, form.cleaned_data["code"], accounts.client_ip(request))
            target = request.session.pop(NEXT, "")
            request.session.pop(OTP_PHONE, None)
            accounts.log_in_citizen(request, user)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            form.data = {}  # a wrong code is not shown again
            status = exc.status
        else:
            if citizen_of(user) is None:
                messages.info(request, _("Welcome. Complete your profile to apply online."))
                url = reverse("portal:profile")
                return redirect(f"{url}?{urlencode({'next': target})}" if target else url)
            return redirect(target or "portal:applications")
    return render(request, "portal/verify.html", {"form": form, "phone": phone}, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    accounts.log_out(request)
    return redirect("portal:home")


@citizen_view(profile=False)
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest, user: User) -> HttpResponse:
    citizen = citizen_of(user)
    target = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if citizen is not None:
        return render(request, "portal/profile.html", {"citizen": citizen, "phone": user.username})
    form = ProfileForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            accounts.complete_profile(
                user,
                national_number=data["national_number"],
                first_name=data["first_name"],
                father_name=data.get("father_name") or "",
                last_name=data["last_name"],
                mother_name=data.get("mother_name") or "",
                birth_date=data.get("birth_date"),
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
            status = exc.status
        else:
            messages.success(request, _("Your profile is complete. You can apply online now."))
            return redirect(target or "portal:services")
    return render(
        request,
        "portal/profile.html",
        {"form": form, "phone": user.username, "next": target},
        status=status,
    )


# ---------------------------------------------------------------- applying


@citizen_view()
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, user: User, code: str) -> HttpResponse:
    svc = _active_service(code)
    language = _language()
    kwargs: dict[str, Any] = {"service": svc, "phone": user.username, "language": language}
    status = 200
    if request.method == "POST":
        token = request.POST.get("token", "")
        form = PortalApplicationForm(request.POST, request.FILES, **kwargs)
        done = _already_submitted(user, token)
        if done is not None:  # the same form sent twice: show the first result
            return redirect("portal:application", reference=done.reference)
        if form.is_valid():
            try:
                app = services.apply_online(
                    user,
                    svc,
                    fields=form.field_values,
                    delivery_mode=form.cleaned_data["delivery_mode"],
                    pickup_center=form.cleaned_data.get("pickup_center"),
                    delivery_address=form.delivery_address(),
                    attachments=form.uploads,
                    token=form.cleaned_data["token"],
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
                    _("Application %(reference)s submitted. Next: pay the fee.")
                    % {"reference": app.reference},
                )
                return redirect("portal:application", reference=app.reference)
        status = 400
        if "token" in form.errors:
            token = new_token()  # an expired or forged token: the next try gets a fresh one
    else:
        token = new_token()
        form = PortalApplicationForm(**kwargs)
    return render(
        request,
        "portal/apply.html",
        {
            "service": svc,
            "name": svc.name(language),
            "fee": svc.fee_on(timezone.localdate()),
            "form": form,
            "token": token,
        },
        status=status,
    )


def _already_submitted(user: User, token: str) -> Application | None:
    if not token:
        return None
    return (
        Application.objects.filter(idempotency_key=services.idempotency_key(user, token))
        .filter(applicant__account=user)
        .first()
    )


# ---------------------------------------------------------------- the citizen's applications


@citizen_view()
@require_GET
def applications(request: HttpRequest, user: User) -> HttpResponse:
    citizen = citizen_of(user)
    assert citizen is not None
    page = Paginator(services.applications_of(citizen), PAGE_SIZE).get_page(request.GET.get("page"))
    language = _language()
    for app in page.object_list:
        app.service_name = app.service.name(language)  # type: ignore[attr-defined]
    return render(request, "portal/applications.html", {"page": page})


def _own(user: User, reference: str) -> Application:
    try:
        return services.application_for(user, reference)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def online_payment_url(reference: str) -> str:
    """The gateway's start URL, once the payments app provides it ('' until then)."""
    try:
        return reverse("payments:online_start", kwargs={"reference": reference})
    except NoReverseMatch:
        return ""


def payment_channels() -> list[tuple[str, str]]:
    """(code, label) of the payment channels offered, for the citizen to choose from."""
    try:
        from baladiya.payments.gateways.registry import gateway_choices
    except ImportError:
        return []
    return [(str(code), str(label)) for code, label in gateway_choices() if code]


@citizen_view()
@require_GET
def application(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    app = _own(user, reference)
    language = _language()
    due = services.amount_due(app)
    pay_url = online_payment_url(app.reference) if due else ""
    doc = services.document_of(app)
    fields = {f.name: f.label(language) for f in app.service.fields.all()}
    return render(
        request,
        "portal/application.html",
        {
            "app": app,
            "service_name": app.service.name(language),
            "values": [(fields.get(k, k), v) for k, v in (app.field_values or {}).items()],
            "history": services.citizen_history(app),
            "due": due,
            "pay_url": pay_url,
            "pay_token": new_token(),
            "channels": payment_channels() if pay_url else [],
            "receipts": services.receipts_of(app),
            "doc": doc,
            "may_download": bool(
                doc is not None and app.service.citizen_download and doc.state == doc.State.VALID
            ),
            "attachments": applications_services.current_attachments(app),
            "may_correct": _may(user, app, "resubmit"),
            "may_cancel": _may(user, app, "cancel"),
            "return_note": (
                applications_services.return_note(app) if app.status == Status.RETURNED else ""
            ),
            "delivery": services.delivery_progress(app, language),
            "language": language,
        },
    )


def _may(user: User, app: Application, step: str) -> bool:
    """Whether the citizen may take `step` on their application now (state and rule)."""
    t = transition(step)
    return app.status in t.source and may_take(user, app, t)


def _refusal(request: HttpRequest, user: User, app: Application, step: str) -> HttpResponse | None:
    """None if the citizen may take `step` on their application now; else the answer: back
    to the application with the reason (not possible in this status), or 403."""
    try:
        t = check_transition(step, app.status)
    except IllegalTransition as exc:
        messages.error(request, str(exc.message))
        return redirect("portal:application", reference=app.reference)
    reason = citizen_refusal(user, app, t)
    return _forbidden(request, reason) if reason is not None else None


@citizen_view()
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    """A returned online application: the citizen corrects the form, sends new copies of the
    papers asked for, and sends it back for review (`applications.services.resubmit`)."""
    app = _own(user, reference)
    refused = _refusal(request, user, app, "resubmit")
    if refused is not None:
        return refused
    language = _language()
    status = 200
    if request.method == "POST":
        form = ResubmitForm(request.POST, request.FILES, service=app.service, language=language)
        if form.is_valid():
            try:
                applications_services.resubmit(
                    app,
                    user,
                    form.field_values,
                    form.cleaned_data.get("note", ""),
                    attachments=form.uploads,
                )
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            except ValidationError as exc:  # the catalog changed between display and submit
                form.add_error(None, exc.messages)
            else:
                messages.success(
                    request, _("Thank you. Your corrected application was sent back for review.")
                )
                return redirect("portal:application", reference=app.reference)
        status = 400
    else:
        form = ResubmitForm(
            initial=field_values_for_form(app.service, app.field_values),
            service=app.service,
            language=language,
        )
    return render(
        request,
        "portal/correct.html",
        {
            "app": app,
            "form": form,
            "service_name": app.service.name(language),
            "return_note": applications_services.return_note(app),
            "attachments": applications_services.current_attachments(app),
        },
        status=status,
    )


@citizen_view()
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    """The citizen cancels their own online application while no fee was paid for it."""
    app = _own(user, reference)
    refused = _refusal(request, user, app, "cancel")
    if refused is not None:
        return refused
    form = CancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                applications_services.cancel(app, user, form.cleaned_data["reason"])
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Your application was cancelled."))
                return redirect("portal:application", reference=app.reference)
        status = 400
    return render(
        request,
        "portal/cancel.html",
        {"app": app, "form": form, "service_name": app.service.name(_language())},
        status=status,
    )


@citizen_view()
@require_GET
def receipt_pdf(request: HttpRequest, user: User, reference: str, number: str) -> HttpResponse:
    try:
        receipt = services.receipt_for(user, reference, number)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    response = HttpResponse(payments.receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@citizen_view()
@require_GET
def document_pdf(request: HttpRequest, user: User, reference: str) -> HttpResponse:
    try:
        doc = services.downloadable_document(user, reference)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    response = HttpResponse(bytes(doc.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["ETag"] = f'"{doc.pdf_sha256}"'
    return response
