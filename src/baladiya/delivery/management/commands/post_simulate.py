"""`baladiya manage post_simulate` (also `baladiya post simulate`): move sandbox parcels on.

post_simulate                     every open parcel: most delivered, some returned
post_simulate RR000000014SY ...   only these
post_simulate --outcome return    all returned to sender (deliver | return | transit | auto)
post_simulate --chaos             some callbacks twice, some in reverse order
post_simulate --flush             deliver the queued callbacks now (one outbox pass)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from baladiya.delivery.post import sandbox
from baladiya.delivery.post.simulate_args import add_simulate_arguments


class Command(BaseCommand):
    help = "Move parcels of the sandbox post office on; their events reach us as callbacks."

    def add_arguments(self, parser: CommandParser) -> None:
        add_simulate_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lines = run_simulation(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for line in lines:
            self.stdout.write(line)


def run_simulation(options: dict[str, Any]) -> list[str]:
    from baladiya.notifications.services import deliver_due

    hours = options.get("older_than")
    tally = sandbox.simulate(
        options.get("tracking") or (),
        outcome=options.get("outcome") or "auto",
        older_than=dt.timedelta(hours=hours) if hours is not None else None,
        duplicate=bool(options.get("duplicate")),
        reverse_order=bool(options.get("reverse")),
        chaos=bool(options.get("chaos")),
        seed=options.get("seed"),
    )
    lines = [
        f"delivered: {len(tally.delivered)}  returned: {len(tally.returned)}  "
        f"in transit: {len(tally.in_transit)}  callbacks queued: {tally.callbacks}"
    ]
    lines += [f"  delivered {n}" for n in tally.delivered]
    lines += [f"  returned  {n}" for n in tally.returned]
    lines += [f"  transit   {n}" for n in tally.in_transit]
    if options.get("flush"):
        sent = deliver_due(limit=max(100, tally.callbacks + 10))
        lines.append(f"outbox: sent {sent.sent}, to retry {sent.retried}, gave up {sent.dead}")
    return lines
