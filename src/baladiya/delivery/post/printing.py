"""The day's post on paper: address labels and the dispatch list, as PDFs (Typst + Amiri).

Both go through `documents.rendering.render_pdf` (one compiler per template, data as JSON,
never spliced into Typst source); the templates sit with the others in `documents/typst/`
(`post_labels.typ`, `post_dispatch_list.typ`).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import segno
import typst
from django.utils import timezone
from django.utils.translation import gettext as _

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.core.errors import DomainError
from baladiya.delivery.post import services
from baladiya.delivery.post.models import Shipment
from baladiya.documents.rendering import render_pdf

LABELS_TEMPLATE = "post_labels.typ"
LIST_TEMPLATE = "post_dispatch_list.typ"


def _scope_name(user: User) -> str:
    """Whose post this is, as printed in the header (Arabic: the paper goes to the post)."""
    if user.has_role(roles.OFFICER) and user.agency is not None:
        return f"{user.agency.name_ar} — المكتب الخلفي"
    if user.has_role(roles.CLERK) and user.center is not None:
        return user.center.name_ar
    return "جميع الجهات"


def _address(address: dict[str, Any]) -> dict[str, str]:
    return {
        "line": str(address.get("line", "") or ""),
        "neighbourhood": str(address.get("neighbourhood", "") or ""),
        "phone": str(address.get("phone", "") or ""),
    }


def _document_number(app: Application) -> str:
    doc = getattr(app, "document", None)
    return str(getattr(doc, "number", "") or "")


def qr_svg(text: str) -> str:
    """A small QR code (the tracking number, for the post office's scanners) as SVG."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="svg", border=0, xmldecl=False)
    return buffer.getvalue().decode("ascii")


def _local_day(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else ""


def _label(shipment: Shipment) -> dict[str, Any]:
    app = shipment.application
    center = shipment.center
    return {
        "tracking": shipment.tracking_number,
        "reference": app.reference,
        "document": _document_number(app),
        "name": shipment.recipient_name,
        **_address(shipment.address),
        "sender": f"مجلس مدينة حمص — {app.service.agency.name_ar}",
        "return_address": center.address or center.name_ar,
        "qr": qr_svg(shipment.tracking_number),
    }


def _render(template: str, data: dict[str, Any]) -> bytes:
    try:
        return render_pdf(template, data, timestamp=timezone.now())
    except (typst.TypstError, FileNotFoundError) as exc:
        raise DomainError(
            _("The PDF could not be produced (template %(name)s).") % {"name": template},
            code="render_failed",
        ) from exc


def labels_pdf(user: User, day: dt.date) -> bytes:
    """One address label per shipment `user` dispatched (in their scope) on `day`."""
    shipments = list(
        services.dispatched_on(user, day).select_related(
            "application__service__agency", "application__applicant"
        )
    )
    if not shipments:
        raise DomainError(_("Nothing was sent by post that day: no labels to print."), code="empty")
    return _render(
        LABELS_TEMPLATE, {"day": day.isoformat(), "labels": [_label(s) for s in shipments]}
    )


def dispatch_list_pdf(user: User, day: dt.date) -> bytes:
    """The day's dispatch list: what was handed to the post on `day` (to be signed by the post
    office), then every document still waiting to be sent."""
    dispatched = [
        {
            "tracking": s.tracking_number,
            "reference": s.application.reference,
            "name": s.recipient_name,
            **_address(s.address),
        }
        for s in services.dispatched_on(user, day)
    ]
    waiting = [
        {
            "reference": app.reference,
            "document": str(getattr(app, "document_number", "") or ""),
            "name": app.applicant.full_name,
            "issued": _local_day(getattr(app, "issued_at", None)),
            **_address(app.delivery_address or {}),
        }
        for app in services.awaiting_dispatch(user)
    ]
    return _render(
        LIST_TEMPLATE,
        {
            "day": day.isoformat(),
            "printed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "scope": _scope_name(user),
            "dispatched": dispatched,
            "waiting": waiting,
        },
    )
