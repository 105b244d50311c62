"""Writes of the directorate's sync pages (central node): closing a sync conflict.

A `SyncConflict` is something a center pushed that central did not apply as is (decision
0009): a person looks at it, does what is needed elsewhere (cancels a refund, calls the
center...) and writes down what was done here. Its state machine:

    open ──resolve (directorate, with a resolution text)──> resolved

`resolved` is final: resolving it again is refused with a clear message and changes nothing.
Side effects: the conflict's state, `resolved_by` and `resolution`, and one audit event
(`sync.conflict_resolved`), in one transaction with the row locked, so two people resolving
the same conflict at once cannot both succeed. Auditors read conflicts and resolve nothing.

Revoking a node is `sync.central.revoke_node` (the CLI and the nodes page call it).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from baladiya.centers.permissions import require_directorate
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError
from baladiya.sync.models import SyncConflict

RESOLUTION_MAX = 300  # SyncConflict.resolution


def resolve_conflict(conflict: SyncConflict, actor: Any, resolution: str) -> SyncConflict:
    """open -> resolved, noting what was done (see the module docstring)."""
    require_directorate(actor)
    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(_("Write what was done about this conflict."), code="resolution_required")
    if len(resolution) > RESOLUTION_MAX:
        raise DomainError(
            _("The resolution is too long (at most %(n)d characters).") % {"n": RESOLUTION_MAX},
            code="resolution_too_long",
        )
    with transaction.atomic():
        locked = SyncConflict.objects.select_for_update().get(pk=conflict.pk)
        if locked.state != SyncConflict.State.OPEN:
            raise Conflict(
                _("This conflict is already resolved; nothing was changed."),
                code="already_resolved",
            )
        locked.state = SyncConflict.State.RESOLVED
        locked.resolved_by = actor
        locked.resolution = resolution
        locked.save(update_fields=["state", "resolved_by", "resolution"])
        audit.record(
            "sync.conflict_resolved",
            actor=actor,
            obj=locked,
            center=locked.center,
            seq=locked.seq,
            model=locked.model,
            object_id=locked.object_id,
            resolution=resolution,
        )
    return locked
