"""Status SMS: one per history entry, a replay queues nothing and breaks nothing."""

from __future__ import annotations

import pytest
from django.db import transaction

from baladiya.applications.models import Application
from baladiya.applications.tests.conftest import MakeApp
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.services import notify_status_change

pytestmark = pytest.mark.django_db


def test_each_status_change_queues_its_sms(make_app: MakeApp) -> None:
    app = make_app(status="in_review")
    keys = {f"status:{pk}" for pk in app.events.values_list("pk", flat=True)}
    assert len(keys) == 3  # submitted, paid, in review
    queued = OutboxMessage.objects.filter(dedupe_key__in=keys)
    assert queued.count() == 3
    assert {m.recipient for m in queued} == {app.applicant.phone}


def test_replayed_notification_queues_nothing_and_the_transaction_goes_on(
    make_app: MakeApp,
) -> None:
    app = make_app()
    event = app.events.get()
    with transaction.atomic():
        notify_status_change(app, event.pk)  # the same history entry again
        # Still usable (no failed INSERT left behind on PostgreSQL):
        assert Application.objects.filter(pk=app.pk).exists()
    assert OutboxMessage.objects.filter(dedupe_key=f"status:{event.pk}").count() == 1


def test_no_phone_no_sms(make_app: MakeApp) -> None:
    app = make_app()
    app.applicant.phone = ""
    app.applicant.save()
    before = OutboxMessage.objects.count()
    notify_status_change(app, "no-phone-event")
    assert OutboxMessage.objects.count() == before
