"""`baladiya manage payment_sweep`: settle online payments whose webhook never came.

Run it every few minutes (cron or a systemd timer): it asks the gateway about every intent
past its lifetime (recording a late success, else marking it expired) and retries the
automatic refunds that failed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from baladiya.payments.gateways.services import sweep_intents


class Command(BaseCommand):
    help = "Ask the gateways about expired online payments; retry failed automatic refunds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        tally = sweep_intents(limit=options["limit"])
        self.stdout.write(
            f"checked {tally.checked}, paid {tally.succeeded}, expired {tally.expired}, "
            f"refunds retried {tally.refunds_retried}"
        )
