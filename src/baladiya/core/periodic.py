"""Safety nets that run by themselves, from the background pump (`baladiya outbox`).

Each job is idempotent, so running it twice (two pumps, a restart) changes nothing more; the
pump keeps the last run time in memory only, which is enough for that reason.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone


def sweep_payments() -> str:
    """Intents whose webhook never came: ask the gateway; retry failed automatic refunds."""
    from baladiya.payments.gateways.services import sweep_intents

    tally = sweep_intents()
    if not tally.checked and not tally.refunds_retried:
        return ""
    return (
        f"{tally.checked} checked, {tally.succeeded} paid, {tally.expired} expired, "
        f"{tally.refunds_retried} refunds retried"
    )


def sync_stale_shipments(older_than: dt.timedelta = dt.timedelta(hours=12)) -> str:
    """Shipments with no news for a while: ask the carrier (a callback may have been lost)."""
    from baladiya.core.errors import DomainError
    from baladiya.delivery.post.models import Shipment
    from baladiya.delivery.post.services import sync_tracking

    cutoff = timezone.now() - older_than
    stale = Shipment.objects.filter(state=Shipment.State.DISPATCHED, created_at__lt=cutoff)
    synced = 0
    for shipment in stale[:200]:
        try:
            sync_tracking(shipment)
            synced += 1
        except DomainError:
            continue  # carrier unreachable: next round
    return f"{synced} shipments asked" if synced else ""


def purge_expired() -> str:
    """One-time codes and rate-limit hits past every window; the text of login-code SMS
    (expired and never sent, or sent and not yet blanked) and the sandbox's day-old SMS."""
    from django.conf import settings

    from baladiya.accounts.otp import purge_codes
    from baladiya.accounts.ratelimit import purge
    from baladiya.notifications.services import purge_secrets

    keep_days = max(2, math.ceil(settings.OTP_DAILY_WINDOW_SECONDS / 86400) + 1)
    messages, sandbox = purge_secrets()
    codes, hits = purge_codes(keep_days), purge(keep_days)
    if not (codes or hits or messages or sandbox):
        return ""  # nothing to say: keep the log quiet
    return f"{codes} codes, {hits} hits, {messages} code SMS, {sandbox} sandbox SMS purged"


def watch_centers() -> str:
    """Center nodes silent too long: open their outage, alert once (`centers.status`)."""
    from baladiya.centers.status import detect_outages

    return detect_outages()


def check_audit_chains() -> str:
    """Walk the audit chains once a day, and whenever an auditor asks (`core.integrity`)."""
    from baladiya.core.integrity import run_due_check

    check = run_due_check()
    if check is None:
        return ""
    verdict = "intact" if check.intact else f"BROKEN: {', '.join(sorted(check.problems))}"
    return f"{check.chains} chains, {check.events} events: {verdict}"


@dataclass
class Job:
    name: str
    every: float  # seconds
    run: Callable[[], str]
    last: float = field(default=0.0)


def demo_centers() -> str:
    """A demo node only: the demo's centers send their heartbeats (`centers.demo`)."""
    from baladiya.centers.demo import keep_demo_centers_alive

    return keep_demo_centers_alive()


def default_jobs() -> list[Job]:
    from django.conf import settings

    jobs = [
        Job("payment sweep", 60, sweep_payments),
        Job("shipment tracking", 1800, sync_stale_shipments),
        Job("purge", 6 * 3600, purge_expired),
        Job("center watch", 60, watch_centers),
        Job("audit chain check", 60, check_audit_chains),
    ]
    if settings.DEMO_NODE and settings.BALADIYA_NODE == "central":
        jobs.insert(0, Job("demo centers", 60, demo_centers))  # before the watch looks
    return jobs


def run_due(jobs: list[Job], report: Callable[[str], None]) -> None:
    """Run every job whose interval has passed; a failing job never stops the others."""
    now = time.monotonic()
    for job in jobs:
        if job.last and now - job.last < job.every:
            continue
        job.last = now
        try:
            result = job.run()
        except Exception as exc:  # reported, retried next interval
            report(f"{job.name}: {type(exc).__name__}: {exc}")
        else:
            if result:
                report(f"{job.name}: {result}")
