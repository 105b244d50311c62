"""The demo's month of center life: statuses, outages derived from silences, tickets."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.centers.demo import seed_status
from baladiya.centers.models import Center, CenterStatus, Heartbeat, Outage, SupportTicket
from baladiya.core.audit import verify_chain
from baladiya.core.seed.homs import seed_homs
from baladiya.core.testing import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One seeded network for the module, rolled back at the end."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_homs(demo=True)
            yield seed_status(random.Random(7))
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_every_physical_center_reports_and_two_are_silent_now(demo: dict[str, int]) -> None:
    codes = set(CenterStatus.objects.values_list("center__code", flat=True))
    assert codes == {f"C{i:02d}" for i in range(1, 12)}  # nine neighbourhood, two institutional
    offline = Outage.objects.filter(ended_at__isnull=True).select_related("center")
    assert {(o.center.code, o.alerted_at is not None) for o in offline} == {
        ("C08", True),
        ("C09", False),
    }
    assert set(
        CenterStatus.objects.filter(online=False).values_list("center__code", flat=True)
    ) == {
        "C08",
        "C09",
    }
    assert Outage.objects.get(center__code="C08", ended_at=None).cause == "power"  # on battery
    assert demo["tickets"] == 3 and demo["center outages"] == Outage.objects.count()


def test_grid_only_centers_lose_power_more_often_mostly_in_the_evening(
    demo: dict[str, int],
) -> None:
    solar = Center.objects.filter(kind="neighbourhood", power_source="solar")
    grid = Center.objects.filter(kind="neighbourhood", power_source="grid")
    assert (solar.count(), grid.count()) == (6, 3)
    cuts = Outage.objects.filter(cause="power")
    per_grid = cuts.filter(center__in=grid).count() / 3
    per_solar = cuts.filter(center__in=solar).count() / 6
    assert per_grid > 3 * max(per_solar, 1)
    evening = [o for o in cuts if timezone.localtime(o.started_at).hour >= 17]
    assert len(evening) > len(cuts) / 2
    assert not Outage.objects.filter(center__code="C11", cause="power").exists()  # own supply
    causes = set(Outage.objects.values_list("cause", flat=True))
    assert causes == {"power", "unknown", "network", "maintenance"}


def test_heartbeat_log_matches_the_outages(demo: dict[str, int]) -> None:
    assert Heartbeat.objects.count() > 11 * 24 * 25
    for outage in Outage.objects.filter(ended_at__isnull=False)[:200]:
        inside = Heartbeat.objects.filter(
            center=outage.center_id,
            received_at__gt=outage.started_at,
            received_at__lt=outage.ended_at,
        )
        assert not inside.exists(), outage


def test_tickets_in_each_state_and_a_verified_audit_chain(demo: dict[str, int]) -> None:
    assert set(SupportTicket.objects.values_list("status", flat=True)) == {
        "open",
        "answered",
        "closed",
    }
    assert verify_chain() == []


def test_seeding_twice_changes_nothing(demo: dict[str, int]) -> None:
    outages = Outage.objects.count()
    assert seed_status(random.Random(8)) == {}
    assert Outage.objects.count() == outages


def test_status_page_with_the_demo(
    demo: dict[str, int], django_assert_max_num_queries: Any
) -> None:
    officer = User.objects.get(username="officer")
    client = logged_in(officer)
    with django_assert_max_num_queries(10):  # the same few queries for 11 centers and 50 rows
        response = client.get(reverse("centers:status"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('id="center-C') == 11 and "C08 offline since" in html
    arabic = logged_in(officer, "ar").get(reverse("centers:tickets"))
    assert arabic.status_code == 200 and "الطابعة لا تطبع الإيصالات" in arabic.content.decode()


def test_a_running_demo_keeps_its_centers_alive_but_the_silent_ones(
    demo: dict[str, int],
) -> None:
    """Ten minutes after `make run`, the status page shows the network as the demo made it
    (two centers silent), not every center gone dark because no real node sends anything."""
    import datetime as dt

    from baladiya.centers.demo import SILENT_NOW, keep_demo_centers_alive
    from baladiya.centers.status import detect_outages

    def offline() -> set[str]:
        return set(CenterStatus.objects.filter(online=False).values_list("center__code", flat=True))

    later = timezone.now() + dt.timedelta(minutes=10)
    for minute in range(10, 0, -1):
        keep_demo_centers_alive(later - dt.timedelta(minutes=minute))
    detect_outages(later)
    assert offline() == set(SILENT_NOW)
    c01 = CenterStatus.objects.get(center__code="C01")
    assert c01.last_heartbeat_at == later - dt.timedelta(minutes=1)

    # Without them (the demo's jobs not running), every center falls silent.
    detect_outages(later + dt.timedelta(minutes=10))
    assert offline() == {f"C{i:02d}" for i in range(1, 12)}
    keep_demo_centers_alive(later + dt.timedelta(minutes=11))  # back: outages closed
    assert offline() == set(SILENT_NOW)
    assert Outage.objects.filter(ended_at__isnull=True).count() == len(SILENT_NOW)
    assert verify_chain() == []


def test_only_a_demo_central_node_fakes_center_heartbeats(settings: Any) -> None:
    from baladiya.core.periodic import default_jobs

    settings.DEMO_NODE, settings.BALADIYA_NODE = False, "central"
    assert "demo centers" not in [job.name for job in default_jobs()]
    settings.DEMO_NODE = True
    assert default_jobs()[0].name == "demo centers"
    settings.BALADIYA_NODE = "center:C03"
    assert "demo centers" not in [job.name for job in default_jobs()]
