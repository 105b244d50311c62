"""Staff view of the catalog: every service with its fee in force, form fields and papers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language

from baladiya.accounts.models import User
from baladiya.catalog.models import Fee, Service


@login_required
def services(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not user.role_codes():
        raise PermissionDenied
    today = timezone.localdate()
    show_inactive = request.GET.get("all") == "1"
    qs = Service.objects.select_related("agency").prefetch_related(
        "fields", "attachments", Prefetch("fees", queryset=Fee.objects.order_by("valid_from"))
    )
    if not show_inactive:
        qs = qs.filter(active=True)
    language = get_language() or "ar"
    rows = []
    for svc in qs:
        fees_now = [f for f in svc.fees.all() if f.applies_on(today)]
        upcoming = [f for f in svc.fees.all() if f.valid_from > today]
        rows.append(
            {
                "service": svc,
                "name": svc.name(language),
                "agency": svc.agency.name_en if language == "en" else svc.agency.name_ar,
                "fee_total": sum(f.amount for f in fees_now),
                "fees_now": [(f.label_en if language == "en" else f.label_ar, f) for f in fees_now],
                "upcoming": [(f.label_en if language == "en" else f.label_ar, f) for f in upcoming],
                "fields": [(f.label(language), f) for f in svc.fields.all()],
                "attachments": [(a.label(language), a) for a in svc.attachments.all()],
            }
        )
    return render(
        request,
        "catalog/services.html",
        {"rows": rows, "today": today, "show_inactive": show_inactive},
    )
