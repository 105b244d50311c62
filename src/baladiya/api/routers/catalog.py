"""The public catalog: services with their fee in force today, form fields and centers."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from baladiya.api.errors import error_responses
from baladiya.api.schemas import CenterOut, ServiceOut
from baladiya.catalog.models import Fee, Service
from baladiya.centers.models import Center
from baladiya.core.money import CURRENCY

router = Router(tags=["catalog"])


def money(amount: int) -> dict[str, Any]:
    return {"amount": int(amount), "currency": CURRENCY}


def service_out(svc: Service, today: Any) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {
            "name": f.name,
            "type": f.type,
            "required": f.required,
            "choices": [str(c) for c in (f.choices or [])],
            "label": {"ar": f.label_ar, "en": f.label_en},
        }
        for f in svc.fields.all()
    ]
    # Required papers are fields of type "file" (their value: {filename, content_base64}).
    fields += [
        {
            "name": a.code,
            "type": "file",
            "required": a.required,
            "choices": [],
            "label": {"ar": a.label_ar, "en": a.label_en},
        }
        for a in svc.attachments.all()
    ]
    return {
        "code": svc.code,
        "name": {"ar": svc.name_ar, "en": svc.name_en},
        "description": {"ar": svc.description_ar, "en": svc.description_en},
        "agency": {
            "code": svc.agency.code,
            "name": {"ar": svc.agency.name_ar, "en": svc.agency.name_en},
        },
        "fee": money(svc.fee_on(today)),
        "delivery_modes": list(svc.delivery_modes or []),
        "approval": svc.approval,
        "sla_days": svc.sla_days,
        "fields": fields,
    }


@router.get(
    "/services", response={200: list[ServiceOut], **error_responses()}, summary="Service catalog"
)
def list_services(request: HttpRequest) -> Status[list[dict[str, Any]]]:
    """Every service offered now, with its total fee in force today (no sign-in needed)."""
    today = timezone.localdate()
    qs = (
        Service.objects.filter(active=True)
        .select_related("agency")
        .prefetch_related("fields", "attachments", Prefetch("fees", queryset=Fee.objects.all()))
        .order_by("code")
    )
    return Status(200, [service_out(svc, today) for svc in qs])


@router.get(
    "/centers", response={200: list[CenterOut], **error_responses()}, summary="Service centers"
)
def list_centers(request: HttpRequest) -> Status[list[dict[str, Any]]]:
    """Active service centers; `accepts_pickup` says where a document can be collected."""
    return Status(
        200,
        [
            {
                "code": c.code,
                "name": {"ar": c.name_ar, "en": c.name_en},
                "kind": c.kind,
                "accepts_pickup": c.accepts_pickup,
                "address": c.address,
                "opening_hours": c.opening_hours,
            }
            for c in Center.objects.filter(active=True).order_by("code")
        ],
    )
