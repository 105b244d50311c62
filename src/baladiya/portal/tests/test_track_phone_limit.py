"""Status lookup without login: failed lookups also count per mobile number typed, so someone
who knows a citizen's number cannot walk references from many addresses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import RateHit
from baladiya.applications.models import Application

pytestmark = pytest.mark.django_db
URL = reverse("portal:track")


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.TRACK_RATE_LIMIT = 4
    settings.TRACK_RATE_WINDOW_SECONDS = 900


def _look(ip: str, reference: str, phone: str) -> Any:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=ip)
    return client.post(URL, {"reference": reference, "phone": phone})


def test_walking_references_for_one_mobile_from_many_addresses_is_stopped(
    online_app: Application,
) -> None:
    for i in range(4):  # each from a new address, each a new reference
        assert _look(f"10.6.6.{i}", f"C00-26-00077{i}", "0944 123 456").status_code == 404
    assert RateHit.objects.filter(scope="track-phone", key="+963944123456").count() == 4
    # The mobile typed any other way is the same number.
    response = _look("10.6.6.99", online_app.reference, "+963944123456")
    assert response.status_code == 429  # even the right reference, from a fresh address
    body = response.content.decode()
    assert "Try again in" in body and "Returned for correction" not in body
    # Another mobile with its own reference is not affected.
    assert _look("10.6.6.99", online_app.reference, "0944 999 999").status_code == 404
    RateHit.objects.filter(scope="track-phone").delete()  # the window has passed
    assert _look("10.6.6.99", online_app.reference, "0944 123 456").status_code == 200


def test_a_successful_lookup_counts_nothing_for_the_mobile(online_app: Application) -> None:
    for i in range(6):
        assert _look(f"10.7.7.{i}", online_app.reference, "0944 123 456").status_code == 200
    assert not RateHit.objects.filter(scope="track-phone").exists()
