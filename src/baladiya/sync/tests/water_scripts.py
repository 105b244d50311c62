"""Scripts run inside a node's own process by the water two-node test. Each prints one
JSON line.

    central-meter              a subscription in Baba Amr (served by C03, and by C05 too, as
                               when one center covers for another) with three unpaid bills
    central-bill METER CYCLE   the establishment's next bill, recorded centrally
    central-pay METER CYCLE    paid at C01's counter (a center without its own node)
    center-pay CODE METER C,C  paid at this center node's counter (CODE: C03 or C05)
    bills METER                every bill of the meter here: cycle -> state
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

AREA = "بابا عمرو"
METER = "HMS-4471"
CYCLES = (("2026-01", 100, 131), ("2026-02", 131, 170), ("2026-03", 170, 212))


def _period_end(cycle: str) -> dt.date:
    year, number = (int(p) for p in cycle.split("-"))
    return dt.date(year, 2 * number, 28)


def central_meter() -> dict[str, Any]:
    from baladiya.accounts.models import Citizen
    from baladiya.centers.models import Center, Neighbourhood
    from baladiya.water.models import Category, Subscription
    from baladiya.water.services import record_bill

    area = Neighbourhood.objects.get(name_ar=AREA)
    Center.objects.get(code="C05").neighbourhoods.add(area)
    citizen = Citizen.objects.create(
        national_number="04031234567",
        first_name="مازن",
        father_name="عادل",
        last_name="الدروبي",
        mother_name="سعاد",
        birth_date=dt.date(1979, 6, 3),
        phone="+963944777888",
    )
    meter = Subscription.objects.create(
        meter_number=METER,
        subscriber=citizen,
        address="بابا عمرو، جانب الجامع",
        neighbourhood=area,
        category=Category.HOUSEHOLD,
        active_since=dt.date(2019, 5, 1),
    )
    amounts = {}
    for cycle, previous, current in CYCLES:
        bill, _ = record_bill(meter, cycle, _period_end(cycle), previous, current)
        amounts[cycle] = bill.amount
    return {"meter": METER, "amounts": amounts}


def central_bill(meter: str, cycle: str) -> dict[str, Any]:
    from baladiya.water.models import Subscription
    from baladiya.water.services import record_bill

    subscription = Subscription.objects.get(meter_number=meter)
    last = subscription.bills.order_by("-period_end").first()
    previous = last.current_reading if last else 0
    bill, _ = record_bill(subscription, cycle, _period_end(cycle), previous, previous + 25)
    return {"cycle": cycle, "amount": bill.amount}


def _pay(code: str, meter: str, cycles: list[str]) -> dict[str, Any]:
    from django.utils import timezone

    from baladiya.accounts import roles
    from baladiya.accounts.models import User
    from baladiya.centers.models import Center
    from baladiya.payments import services as pay
    from baladiya.water.models import Subscription
    from baladiya.water.services import pay_bills

    center = Center.objects.get(code=code)
    cashier = User.objects.filter(center=center, groups__name=roles.CASHIER).first()
    assert cashier is not None
    drawer = pay.current_session(cashier)
    if drawer is not None and drawer.business_date != timezone.localdate():
        pay.close_session(drawer, cashier, pay.session_totals(drawer).expected)
        drawer = None
    if drawer is None:
        pay.open_session(cashier, 0)
    bills = list(Subscription.objects.get(meter_number=meter).bills.filter(cycle__in=cycles))
    receipt = pay_bills(bills, cashier, center)
    return {"receipt": receipt.number, "amount": receipt.amount}


def bills(meter: str) -> dict[str, Any]:
    from baladiya.water.models import Subscription

    subscription = Subscription.objects.filter(meter_number=meter).first()
    if subscription is None:
        return {}
    return {b.cycle: b.state for b in subscription.bills.order_by("cycle")}


def main(argv: list[str]) -> Any:
    command, args = argv[0], argv[1:]
    if command == "central-meter":
        return central_meter()
    if command == "central-bill":
        return central_bill(args[0], args[1])
    if command == "central-pay":
        return _pay("C01", args[0], args[1].split(","))
    if command == "center-pay":
        return _pay(args[0], args[1], args[2].split(","))
    if command == "bills":
        return bills(args[0])
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False))
