"""Proving the audit log intact, for its readers: a walk of every audit chain this node
holds (`audit.verify_chain`, and on the central node each center node's chain as received),
once a day by itself and whenever an auditor asks. The background pump runs the walk
(`core.periodic`): on years of events it takes longer than a web request should."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from baladiya.core import audit
from baladiya.core.models import AuditEvent, ChainCheck

CHECK_EVERY = dt.timedelta(hours=24)
# A walk still "running" this long after it started died with its pump: it is taken again.
STALE_AFTER = dt.timedelta(hours=2)
OWN_CHAIN = "central"  # the name this node's own chain goes by on the central node


def request_check(actor: Any) -> ChainCheck:
    """Ask for a walk now; a request already waiting is the answer to a second one."""
    with transaction.atomic():
        waiting = ChainCheck.objects.select_for_update().filter(state=ChainCheck.State.REQUESTED)
        check = waiting.first()
        if check is not None:
            return check
        name = getattr(actor, "username", "") or str(actor)
        check = ChainCheck.objects.create(requested_by=name[:150])
        audit.record("audit.check_requested", actor=actor, obj=check)
    return check


def run_due_check(now: dt.datetime | None = None) -> ChainCheck | None:
    """Walk the chains if someone asked, or if the last walk is a day old; None if neither."""
    moment = now or timezone.now()
    check = _claim_requested(moment)
    if check is None:
        last = ChainCheck.objects.filter(state=ChainCheck.State.DONE).first()
        if last is not None and last.finished_at and moment - last.finished_at < CHECK_EVERY:
            return None
        running = ChainCheck.objects.filter(state=ChainCheck.State.RUNNING)
        if running.filter(started_at__gte=moment - STALE_AFTER).exists():
            return None  # another pump is walking them
        check = ChainCheck.objects.create(state=ChainCheck.State.RUNNING, started_at=moment)
    return _walk(check)


def _claim_requested(moment: dt.datetime) -> ChainCheck | None:
    """The oldest request (or a walk whose pump died), taken by this pump alone."""
    requested = ChainCheck.objects.filter(state=ChainCheck.State.REQUESTED).order_by("created_at")
    abandoned = ChainCheck.objects.filter(
        state=ChainCheck.State.RUNNING, started_at__lt=moment - STALE_AFTER
    )
    for check in [*requested[:5], *abandoned[:5]]:
        taken = ChainCheck.objects.filter(pk=check.pk, state=check.state).update(
            state=ChainCheck.State.RUNNING, started_at=moment
        )
        if taken:
            check.refresh_from_db()
            return check
    return None


@dataclass(frozen=True)
class _Chain:
    name: str
    verify: Callable[[], list[audit.ChainProblem]]
    count: Callable[[], int]


def _walk(check: ChainCheck) -> ChainCheck:
    chains = [_Chain(_own_chain_name(), audit.verify_chain, AuditEvent.objects.count)]
    if settings.BALADIYA_NODE == "central":
        chains += _center_chains()
    problems: dict[str, list[str]] = {}
    events = 0
    for chain in chains:
        found = chain.verify()
        events += chain.count()
        if found:
            problems[chain.name] = [str(problem) for problem in found[:200]]
    check.state = ChainCheck.State.DONE
    check.finished_at = timezone.now()
    check.chains, check.events, check.problems = len(chains), events, problems
    with transaction.atomic():
        check.save(update_fields=["state", "finished_at", "chains", "events", "problems"])
        audit.record(
            "audit.chain_checked",
            actor=None,
            obj=check,
            chains=check.chains,
            events=events,
            broken=sorted(problems),
        )
    return check


def _own_chain_name() -> str:
    return OWN_CHAIN if settings.BALADIYA_NODE == "central" else settings.NODE_CENTER_CODE


def _center_chains() -> list[_Chain]:
    """Each center node's chain as the central node received it."""
    from baladiya.sync.central import verify_center_chain
    from baladiya.sync.models import CenterAuditEvent

    codes = sorted(set(CenterAuditEvent.objects.values_list("center", flat=True)))
    return [
        _Chain(
            code,
            partial(verify_center_chain, code),
            CenterAuditEvent.objects.filter(center=code).count,
        )
        for code in codes
    ]
