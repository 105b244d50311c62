"""Water in the lived-in demo (`baladiya seed demo`): a few dozen subscriptions of demo
citizens with several cycles of bills, brought in the way real data arrives — files the
(sandbox) water establishment leaves, fetched and imported — and some of them paid at the
counters, so a cashier has bills to collect and the collection reports have figures."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center, Neighbourhood
from baladiya.water.collections import month_bounds
from baladiya.water.exchange import SandboxEstablishment, exchange_dir
from baladiya.water.importing import fetch_and_import
from baladiya.water.models import Bill, BillPayment, Subscription
from baladiya.water.samples import READINGS, SUBSCRIBERS, csv_bytes
from baladiya.water.services import pay_bills, unpaid_bills

METERS = 36
CYCLES = 4
STREETS = ["شارع الحضارة", "شارع الدبلان", "شارع الحمراء", "شارع القوتلي", "شارع الغوطة"]


def _last_cycles(today: dt.date, count: int) -> list[tuple[str, dt.date]]:
    """The `count` two-month cycles that ended before `today`, oldest first."""
    cycles = []
    year, number = today.year, (today.month - 1) // 2  # the cycle running now is number + 1
    for _ in range(count):
        if number == 0:
            year, number = year - 1, 6
        cycles.append((f"{year}-{number:02d}", month_bounds(dt.date(year, number * 2, 1))[1]))
        number -= 1
    return list(reversed(cycles))


def _holders(citizens: list[Citizen]) -> list[Citizen]:
    """Citizens with a portal account first (they see their bills online), then the others."""
    with_account = list(Citizen.objects.filter(account__isnull=False).order_by("national_number"))
    others = [c for c in citizens if c not in with_account]
    return (with_account + others)[: METERS - METERS // 6]


def seed_water_demo(
    citizens: list[Citizen], cashiers: dict[Any, User], actor: Any, seed: int = 2026
) -> dict[str, int]:
    """Publish a subscribers file and a readings file at the sandbox establishment, fetch
    and import them, then pay the oldest bills of one meter in three at a counter, all at
    once (the lived-in demo spreads the payments over its days: `core.seed.demo`)."""
    rng = random.Random(seed)
    if not import_demo_water(citizens, actor, rng):
        return {}
    paid = 0
    for bills, center, cashier in bills_to_collect(rng, cashiers):
        pay_bills(bills, cashier, center)
        paid += len(bills)
    return {"water subscriptions": METERS, "water bills paid": paid}


def import_demo_water(citizens: list[Citizen], actor: Any, rng: random.Random) -> bool:
    """Publish the demo's subscribers and readings files at the sandbox establishment and
    import them; False if there is nobody to hold a meter or the demo meters exist."""
    holders = _holders(citizens)
    if not holders or Subscription.objects.filter(meter_number__startswith="DEMO-").exists():
        return False
    names = list(Neighbourhood.objects.order_by("name_ar").values_list("name_ar", flat=True))
    subscribers = []
    for i in range(METERS):
        person = holders[i % len(holders)]  # the first few hold a second meter (a shop)
        subscribers.append(
            (
                f"DEMO-{i + 1:05d}",
                person.national_number,
                person.first_name,
                person.father_name,
                person.last_name,
                person.phone,
                f"{rng.choice(STREETS)}، بناء {rng.randint(1, 60)}",
                rng.choice(names) if names else "",
                "household",
                "working",
                f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}-01",
            )
        )
    readings = []
    meters = {row[0]: rng.randint(100, 3000) for row in subscribers}
    for cycle, end in _last_cycles(timezone.localdate(), CYCLES):
        for meter in meters:
            used = rng.choice([18, 30, 42, 55, 70, 95, 130])
            readings.append(
                (meter, cycle, end.isoformat(), meters[meter], meters[meter] + used, "")
            )
            meters[meter] += used
    sandbox = SandboxEstablishment(exchange_dir())
    sandbox.publish("subscribers-demo.csv", csv_bytes(SUBSCRIBERS, subscribers))
    sandbox.publish("readings-demo.csv", csv_bytes(READINGS, readings))
    fetch_and_import(actor, establishment=sandbox, attempts=1)
    return True


def bills_to_collect(
    rng: random.Random, cashiers: dict[Any, User]
) -> list[tuple[list[Bill], Center, User]]:
    """The oldest one or two bills of every third demo meter, with the counter (center and
    cashier) that takes them; none once any demo bill is paid."""
    if BillPayment.objects.filter(bill__subscription__meter_number__startswith="DEMO-").exists():
        return []
    counters = [(c, cashiers[c.pk]) for c in Center.objects.filter(pk__in=list(cashiers))]
    collections = []
    for subscription in Subscription.objects.filter(meter_number__startswith="DEMO-")[::3]:
        bills: list[Bill] = list(unpaid_bills(subscription)[: rng.randint(1, 2)])
        if bills and counters:
            center, cashier = rng.choice(counters)
            collections.append((bills, center, cashier))
    return collections
