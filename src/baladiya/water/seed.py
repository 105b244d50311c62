"""The household water tariff of Homs (DESIGN §7), in piastres.

Published per m³ per cycle, in old pounds: 36–50 m³ 150, 51–80 400, 81–120 1,500, over 120
3,000. One old pound is one piastre of the new pound (100 old = 1 new = 100 piastres), so the
figures carry over as they are. The published table starts at 36 m³: the first slab (0–35)
is priced like 36–50 until the establishment confirms its figure (the tariff's note says so;
an administrator changes it in the admin). Other categories have their own tariffs, not
published: they are added in the admin, and a bill for a category without a tariff is refused
with a clear message rather than priced wrongly.
"""

from __future__ import annotations

import datetime as dt

from baladiya.water.models import Category, Slab, Tariff

HOUSEHOLD_SLABS = ((0, 35, 150), (36, 50, 150), (51, 80, 400), (81, 120, 1_500), (121, None, 3_000))
VALID_FROM = dt.date(2026, 1, 1)


def seed_tariffs() -> int:
    """Create the household tariff if missing; returns how many tariffs were created."""
    tariff, created = Tariff.objects.get_or_create(
        category=Category.HOUSEHOLD,
        valid_from=VALID_FROM,
        defaults={
            "fixed_charge": 0,
            "note": "0-35 m3 priced as 36-50 until confirmed; fixed charge not published",
        },
    )
    if created:
        Slab.objects.bulk_create(
            Slab(tariff=tariff, from_m3=low, to_m3=high, price_per_m3=price)
            for low, high, price in HOUSEHOLD_SLABS
        )
    return int(created)
