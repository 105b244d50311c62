"""The directorate's sync pages on the central node: enrolled center nodes, sync conflicts.

(`sync.views` is the wire protocol the nodes speak; these are pages for people.)

Who: the informatics directorate and auditors read (`centers.permissions.may_read_network`);
the directorate resolves conflicts; only an administrator revokes a node (a stolen or burnt
PC: its key stops being accepted). Anyone else gets the 403 page, an unknown conflict a 404.
Views parse, authorize and render; the writes are `sync.services.resolve_conflict` and
`sync.central.revoke_node`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.centers.permissions import is_directorate, may_read_network
from baladiya.core.errors import DomainError, NotAllowed
from baladiya.sync import capture, central, registry, services
from baladiya.sync.forms import ConflictFilterForm, ResolveForm, RevokeForm, state_filter
from baladiya.sync.models import CenterNode, InboundEvent, SyncConflict

PAGE_SIZE = 50
SHOWN_FIELDS = 15  # of the central row, differing ones first
VALUE_MAX = 160  # characters of one value shown in the comparison
# Never shown, even to the directorate: a conflict may carry a row a center had no business
# pushing (a staff account, say), and the central row is looked up by the same name.
SECRET_PARTS = ("password", "secret", "token", "sha256")


def network_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Logged in, and the directorate or an auditor; the view gets the User (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not isinstance(user, User) or not may_read_network(user):
            return _forbidden(request, _("Sync is for the informatics directorate and auditors."))
        return view(request, user, *args, **kwargs)

    return wrapper


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": 403, "message": message}, status=403)


def may_revoke_nodes(user: User) -> bool:
    """Revoking a node is the administrators' (as its enrolment code is made by one)."""
    return user.has_role(roles.ADMIN)


# ---------------------------------------------------------------- nodes


@network_view
@require_http_methods(["GET", "POST"])
def nodes(request: HttpRequest, user: User) -> HttpResponse:
    """Every enrolled center node and how far its sync got; POST: revoke one (admin)."""
    form = RevokeForm()
    if request.method == "POST":
        if not may_revoke_nodes(user):
            return _forbidden(request, _("Only an administrator may revoke a center node."))
        form = RevokeForm(request.POST)
        if form.is_valid():
            code = form.cleaned_data["center"]
            try:
                central.revoke_node(code, user, form.cleaned_data["reason"])
            except DomainError as exc:  # no reason, unknown or already revoked: nothing done
                form.add_error(None, str(exc.message))
            else:
                messages.success(
                    request,
                    _("The node of %(code)s is revoked: its requests are refused from now on.")
                    % {"code": code},
                )
                return redirect("sync:nodes")
    rows = CenterNode.objects.select_related("center", "key").order_by("center__code")
    open_counts = dict(
        SyncConflict.objects.filter(state=SyncConflict.State.OPEN)
        .order_by()
        .values("center")
        .annotate(n=Count("id"))
        .values_list("center", "n")
    )
    for node in rows:
        node.open_conflicts = open_counts.get(node.center.code, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "sync/nodes.html",
        {
            "nodes": rows,
            "form": form,
            "failed_center": form.data.get("center", "") if form.is_bound else "",
            "may_revoke": may_revoke_nodes(user),
            "center_node": capture.is_center_node(),
        },
    )


# ---------------------------------------------------------------- conflicts


@network_view
@require_http_methods(["GET"])
def conflicts(request: HttpRequest, user: User) -> HttpResponse:
    """Conflicts, open ones by default, filtered by state and center."""
    codes = sorted(
        set(SyncConflict.objects.order_by().values_list("center", flat=True).distinct())
        | set(CenterNode.objects.values_list("center__code", flat=True))
    )
    filters = ConflictFilterForm(request.GET or None, codes=codes)
    state, code = filters.values()
    qs = SyncConflict.objects.filter(**state_filter(state)).order_by("-created_at", "-id")
    if code:
        qs = qs.filter(center=code)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sync/conflicts.html",
        {
            "page": page,
            "filters": filters,
            "state": state,
            "code": code,
            "center_node": capture.is_center_node(),
        },
    )


@network_view
@require_http_methods(["GET", "POST"])
def conflict_detail(request: HttpRequest, user: User, pk: Any) -> HttpResponse:
    """What the center sent, central's row as it is now; POST: resolve (directorate)."""
    conflict = get_object_or_404(SyncConflict.objects.select_related("resolved_by"), pk=pk)
    form = ResolveForm()
    if request.method == "POST":
        if not is_directorate(user):
            return _forbidden(
                request,
                _("Only the informatics directorate (officers, administrators) may do this."),
            )
        form = ResolveForm(request.POST)
        if form.is_valid():
            try:
                services.resolve_conflict(conflict, user, form.cleaned_data["resolution"])
            except NotAllowed as exc:
                return _forbidden(request, str(exc.message))
            except DomainError as exc:  # empty, or resolved meanwhile: nothing changed
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("The conflict is resolved."))
                return redirect(reverse("sync:conflict", args=[conflict.pk]))
        conflict.refresh_from_db()  # resolved meanwhile: show who did it
    return render(
        request,
        "sync/conflict.html",
        {
            "conflict": conflict,
            "event": InboundEvent.objects.filter(center=conflict.center, seq=conflict.seq).first(),
            "sent": _pretty(conflict.pushed),
            "row": central_row(conflict),
            "form": form,
            "may_resolve": is_directorate(user) and conflict.state == SyncConflict.State.OPEN,
        },
    )


# ---------------------------------------------------------------- what the center sent


def _secret(name: str) -> bool:
    return any(part in name.lower() for part in SECRET_PARTS)


def _masked(pushed: Any) -> Any:
    """The pushed row without secrets, and files as their size (not megabytes of base64)."""
    if not isinstance(pushed, dict):
        return pushed
    shown = dict(pushed)
    fields = shown.get("fields")
    if isinstance(fields, dict):
        shown["fields"] = {k: ("•••" if _secret(k) else v) for k, v in fields.items()}
    files = shown.get("files")
    if isinstance(files, dict):
        shown["files"] = {
            k: _("(file, %(n)s characters of base64)") % {"n": len(str(v))}
            for k, v in files.items()
        }
    return shown


def _pretty(pushed: Any) -> str:
    return json.dumps(_masked(pushed), indent=2, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class FieldRow:
    name: str
    central: str
    sent: str
    differs: bool


@dataclass(frozen=True)
class CentralRow:
    verbose_name: str
    fields: list[FieldRow]
    more: int  # fields not shown


def central_row(conflict: SyncConflict) -> CentralRow | None:
    """The central node's row the conflict names, as it is now; None when there is none.

    Looked up only among the replicated models (the label comes from a center): an unknown
    label or a malformed id is "no such row", never an error page."""
    if conflict.model not in registry.PUSH and conflict.model not in registry.PULL:
        return None
    try:
        model = registry.model_of(conflict.model)
        obj = model._base_manager.filter(pk=conflict.object_id).first()
    except (LookupError, ValueError, TypeError, ValidationError):
        return None
    if obj is None:
        return None
    now: dict[str, Any] = json.loads(serializers.serialize("json", [obj]))[0]["fields"]
    pushed = conflict.pushed.get("fields") if isinstance(conflict.pushed, dict) else None
    sent: dict[str, Any] = pushed if isinstance(pushed, dict) else {}
    rows = [
        FieldRow(
            name,
            _shown(value),
            _shown(sent[name]) if name in sent else "—",
            _differs(name, value, sent),
        )
        for name, value in now.items()
        if not _secret(name)
    ]
    rows.sort(key=lambda r: not r.differs)  # stable: model order within each group
    return CentralRow(
        verbose_name=str(model._meta.verbose_name),
        fields=rows[:SHOWN_FIELDS],
        more=max(0, len(rows) - SHOWN_FIELDS),
    )


def _differs(name: str, value: Any, sent: dict[str, Any]) -> bool:
    return name in sent and sent[name] != value


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"
