"""Water bills at the counter (look up by meter or national number, pay one or several in
cash; works on a center node offline) and in the citizen portal (the subscriber's own
meters, paid online through the gateway; central only).

Views parse, check who asks, call `water.services` / `water.online`, and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.accounts.permissions import citizen_of, require_role
from baladiya.applications.views import staff_view
from baladiya.core.errors import DomainError
from baladiya.payments import services as payments
from baladiya.payments.forms import new_form_token
from baladiya.payments.models import Receipt
from baladiya.portal.views import citizen_view
from baladiya.water import online, services
from baladiya.water.models import Bill, Subscription

COUNTER_ROLES = (roles.CLERK, roles.CASHIER, roles.SUPERVISOR, roles.ADMIN)
RECENT_PAID = 6


def _chosen_bills(request: HttpRequest) -> list[Bill]:
    ids = [i for i in request.POST.getlist("bill") if i.strip()]
    try:
        return list(Bill.objects.filter(pk__in=ids).select_related("subscription"))
    except (ValueError, ValidationError):  # a malformed id: nothing chosen
        return []


def _meter_rows(subscriptions: list[Subscription]) -> list[dict[str, Any]]:
    rows = []
    for sub in subscriptions:
        unpaid = list(services.unpaid_bills(sub))
        paid = list(
            sub.bills.exclude(state=Bill.State.UNPAID)
            .prefetch_related("payments__receipt")
            .order_by("-period_end")[:RECENT_PAID]
        )
        rows.append(
            {
                "subscription": sub,
                "unpaid": unpaid,
                "owed": sum(b.amount for b in unpaid),
                "paid": paid,
            }
        )
    return rows


# ---------------------------------------------------------------- the counter


@staff_view
@require_GET
def counter(request: HttpRequest, user: User) -> HttpResponse:
    """Find a meter by its number or the subscriber's national number; unpaid bills oldest
    first, ready to be paid together."""
    require_role(user, *COUNTER_ROLES)
    query = (request.GET.get("q") or "").strip()
    found = list(services.find_subscriptions(query)) if query else []
    return render(
        request,
        "water/counter.html",
        {
            "query": query,
            "searched": bool(query),
            "meters": _meter_rows(found),
            "may_take_cash": user.has_role(roles.CASHIER) and user.center_id is not None,
            "token": new_form_token(),
        },
    )


@staff_view
@require_POST
def counter_pay(request: HttpRequest, user: User) -> HttpResponse:
    """Cash for the chosen bills of one meter: one receipt, printed after its commit."""
    require_role(user, roles.CASHIER)
    bills = _chosen_bills(request)
    meter = bills[0].subscription.meter_number if bills else request.POST.get("q", "")
    back = reverse("water:counter") + "?q=" + meter
    if user.center is None:
        messages.error(request, _("Your account is not attached to a center."))
        return redirect(back)
    try:
        receipt = services.pay_bills(bills, user, user.center)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    messages.success(
        request,
        _("Paid. Receipt %(number)s — print it for the citizen.") % {"number": receipt.number},
    )
    return redirect("payments:receipt", number=receipt.number)


# ---------------------------------------------------------------- the citizen's own bills


@citizen_view()
@require_GET
def my_bills(request: HttpRequest, user: User) -> HttpResponse:
    citizen = citizen_of(user)
    mine = list(
        Subscription.objects.filter(subscriber=citizen)
        .select_related("neighbourhood")
        .order_by("meter_number")
    )
    return render(
        request,
        "water/my_bills.html",
        {"meters": _meter_rows(mine), "token": new_form_token()},
    )


@citizen_view()
@require_POST
def my_bills_pay(request: HttpRequest, user: User) -> HttpResponse:
    """Start an online payment of the chosen bills; the gateway's page takes over."""
    token = (request.POST.get("idempotency_key") or "").strip()
    try:
        start = online.start_bill_payment(
            _chosen_bills(request),
            user,
            return_url=request.build_absolute_uri(reverse("payments:online_return")),
            idempotency_key=f"water:{user.pk}:{token}" if token else None,
            gateway=request.POST.get("gateway") or None,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("water:my_bills")
    return redirect(start.redirect_url)


@citizen_view()
@require_http_methods(["GET"])
def my_receipt_pdf(request: HttpRequest, user: User, number: str) -> HttpResponse:
    """A receipt for the citizen's own meter (paid online or at a counter)."""
    receipt = Receipt.objects.filter(
        number=number, bill_payments__bill__subscription__subscriber=citizen_of(user)
    ).first()
    if receipt is None:
        raise Http404
    response = HttpResponse(payments.receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("counter/", counter, name="counter"),
    path("counter/pay/", counter_pay, name="counter_pay"),
    path("my/", my_bills, name="my_bills"),
    path("my/pay/", my_bills_pay, name="my_bills_pay"),
    path("my/receipts/<str:number>.pdf", my_receipt_pdf, name="my_receipt_pdf"),
]
