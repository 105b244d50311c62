"""The staff list of services: fee in force today, upcoming fees, fields and attachments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.catalog.models import Fee, RequiredAttachment, Service

pytestmark = pytest.mark.django_db
URL = "/catalog/"


@pytest.fixture
def staff_client(clerk: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(clerk)
    return client


def test_lists_services_with_fee_fields_and_attachments(
    staff_client: Client, service: Service, back_office_service: Service
) -> None:
    today = timezone.localdate()
    Fee.objects.create(
        service=service,
        label_ar="طابع",
        label_en="Stamp",
        amount=1500,
        valid_from=dt.date(2026, 1, 1),
    )
    Fee.objects.create(
        service=service, label_ar="قديم", label_en="Old", amount=999,
        valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31),
    )  # fmt: skip
    Fee.objects.create(
        service=service, label_ar="جديد", label_en="Next year", amount=7000,
        valid_from=today + dt.timedelta(days=30),
    )  # fmt: skip
    RequiredAttachment.objects.create(
        service=service, code="id", label_ar="هوية", label_en="ID card copy"
    )
    response = staff_client.get(URL)
    assert response.status_code == 200
    rows = {r["service"].code: r for r in response.context["rows"]}
    assert rows["civil-individual-extract"]["fee_total"] == 6500  # 5,000 + 1,500, not the old
    assert rows["non-employment"]["fee_total"] == 2500
    body = response.content.decode()
    assert "65.00" in body and "Next year" in body and "70.00" in body
    assert "Purpose" in body and "ID card copy" in body
    assert "Back office (directorate officer)" in body


def test_inactive_services_are_hidden_unless_asked(staff_client: Client, service: Service) -> None:
    service.active = False
    service.save()
    assert staff_client.get(URL).context["rows"] == []
    assert len(staff_client.get(URL, {"all": "1"}).context["rows"]) == 1


def test_staff_only() -> None:
    assert Client().get(URL).status_code == 302
