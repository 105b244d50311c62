"""The demo generator on a node that has recorded work already (its own module: test_demo's
demo lives for a whole module)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from baladiya.applications.models import Application
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.models import AuditEvent
from baladiya.core.seed.demo import generate_demo
from baladiya.core.seed.homs import seed_homs
from baladiya.payments.models import CashierSession

pytestmark = pytest.mark.django_db


def test_a_demo_generated_again_or_after_other_work_stays_in_time_order(settings: Any) -> None:
    """Seeded at the real time (not `before_history`), the demo cannot write a past before
    what is already recorded: it all happens today. Generated a second time, it uses the
    drawers already open instead of failing on them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    seed_homs(demo=True)
    first = generate_demo(count=10, seed=8)
    second = generate_demo(count=10, seed=9)
    assert first["days"] == second["days"] == 1
    assert Application.objects.count() == 20
    today = timezone.localdate()
    assert {timezone.localtime(a.created_at).date() for a in Application.objects.all()} == {today}
    assert (
        CashierSession.objects.filter(state="open").count()
        == Center.objects.exclude(kind=Center.Kind.ELECTRONIC).count()
    )
    stamps = list(AuditEvent.objects.order_by("seq").values_list("at", flat=True))
    assert stamps == sorted(stamps) and verify_chain() == []
