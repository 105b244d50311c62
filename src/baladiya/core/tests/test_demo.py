"""The demo generator: a lived-in system built through the real service functions."""

from __future__ import annotations

import pytest
from django.db.models import F
from django.utils import timezone

from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.seed.demo import generate_demo
from baladiya.core.seed.homs import seed_homs
from baladiya.documents.models import IssuedDocument
from baladiya.payments.models import CashierSession
from baladiya.payments.reports import money_balances

pytestmark = pytest.mark.django_db


def test_demo_is_lived_in_and_consistent() -> None:
    seed_homs(demo=True)
    tally = generate_demo(count=80, seed=7)

    # Applications in every state, at every counter center.
    assert set(Application.objects.values_list("status", flat=True)) == set(Status.values)
    centers = set(Application.objects.values_list("center__code", flat=True))
    counters = Center.objects.exclude(kind=Center.Kind.ELECTRONIC).values_list("code", flat=True)
    assert centers == set(counters)
    assert sum(v for k, v in tally.items() if k != "revoked") == Application.objects.count() == 80

    # Some citizens collect at another center than the one that took the application.
    elsewhere = Application.objects.filter(pickup_center__isnull=False).exclude(
        pickup_center=F("center")
    )
    assert elsewhere.filter(status=Status.HANDED_OVER).exists()

    # Open and closed drawers; valid and revoked documents.
    assert set(CashierSession.objects.values_list("state", flat=True)) == {"open", "closed"}
    documents = set(IssuedDocument.objects.values_list("state", flat=True))
    assert documents == {IssuedDocument.State.VALID, IssuedDocument.State.REVOKED}

    # Some open applications are past their SLA, so the overdue list shows something.
    today = timezone.localdate()
    overdue = Application.objects.filter(
        sla_due__lt=today, status__in=[Status.PAID, Status.IN_REVIEW, Status.RETURNED]
    )
    assert overdue.exists()

    # Built through the real services: the chain verifies and every drawer balances.
    assert verify_chain() == []
    for center in Center.objects.exclude(kind=Center.Kind.ELECTRONIC):
        assert money_balances(center, today), center.code
