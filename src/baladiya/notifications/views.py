"""The sandbox SMS inbox: the developer's "phone" (demo and debug nodes only).

With the sandbox SMS gateway nothing reaches a real phone: what it "delivers" is kept in
`SandboxSms`, and what the outbox has not sent yet waits in `OutboxMessage`. This page lists
both, so a demo citizen can read the one-time code to log in to the portal. It exists only on a
demo or debug node that uses the sandbox sender (404 everywhere else): it shows every code.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from baladiya.core.validators import clean_mobile
from baladiya.notifications.models import OutboxMessage, SandboxSms

SANDBOX_SENDER = "baladiya.notifications.senders.SandboxSmsSender"
LIMIT = 50


def _demo_node() -> bool:
    flag = os.environ.get("BALADIYA_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}
    return bool(settings.DEBUG or flag)


def sandbox_inbox_active() -> bool:
    """True on a demo or debug node whose SMS go to the sandbox gateway."""
    return _demo_node() and getattr(settings, "SMS_SENDER", "") == SANDBOX_SENDER


@require_GET
def sandbox_sms(request: HttpRequest) -> HttpResponse:
    """The latest SMS "delivered" by the sandbox gateway and those still in the outbox,
    optionally for one mobile number (`?phone=`)."""
    if not sandbox_inbox_active():
        raise Http404
    raw = (request.GET.get("phone") or "").strip()[:40]
    phone, error = "", ""
    if raw:
        try:
            phone = clean_mobile(raw)
        except ValidationError as exc:
            error = exc.messages[0]
    delivered = SandboxSms.objects.order_by("-created_at")
    pending = OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.SMS, state=OutboxMessage.State.PENDING
    ).order_by("-created_at")
    if phone:
        delivered = delivered.filter(phone=phone)
        pending = pending.filter(recipient=phone)
    elif error:
        delivered, pending = delivered.none(), pending.none()
    response = render(
        request,
        "notifications/sandbox_sms.html",
        {
            "phone": phone or raw,
            "error": error,
            "delivered": list(delivered[:LIMIT]),
            "pending": list(pending[:LIMIT]),
            "limit": LIMIT,
        },
    )
    response["Cache-Control"] = "no-store"  # one-time codes
    return response
