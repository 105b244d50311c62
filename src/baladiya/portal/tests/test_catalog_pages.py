"""Public portal pages: home, the catalog with a search that forgives Arabic spelling
variants, a service's page with the fee in force, fields, papers and delivery modes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.catalog.models import Fee, Service
from baladiya.centers.models import Center

pytestmark = pytest.mark.django_db


def en() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def test_root_sends_the_public_and_citizens_to_the_portal_and_staff_to_work(
    citizen_user: User, clerk: User
) -> None:
    assert Client().get("/")["Location"] == reverse("portal:home")
    client = Client()
    client.force_login(citizen_user)
    assert client.get("/")["Location"] == reverse("portal:home")
    client.force_login(clerk)
    assert client.get("/")["Location"] == reverse("applications:counter")


def test_home_is_arabic_rtl_with_login_search_track_and_verify() -> None:
    response = Client().get(reverse("portal:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="ar" dir="rtl"' in body
    for name in ("portal:login", "portal:services", "portal:track", "verify:lookup"):
        assert f'href="{reverse(name)}"' in body
    english = en().get(reverse("portal:home")).content.decode()
    assert 'lang="en" dir="ltr"' in english and "Log in or sign up" in english


def test_catalog_lists_active_services_with_fee_in_force(
    service: Service, portal_service: Service
) -> None:
    Service.objects.create(
        code="retired",
        agency=service.agency,
        name_ar="خدمة متوقفة",
        name_en="Retired service",
        delivery_modes=["pickup"],
        document_template="certificate.typ",
        document_title_ar="-",
        document_title_en="-",
        active=False,
    )
    body = en().get(reverse("portal:services")).content.decode()
    assert "Individual civil-registry extract" in body and "Family civil-registry extract" in body
    assert "Retired service" not in body
    assert "100.00" in body  # 7,500 + 2,500 piastres


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("عائلى", True),  # alef maqsura for ya
        ("بيان  قيد عائلي", True),  # extra spaces
        ("بَيان", True),  # diacritics
        ("family extract", True),
        ("FAMILY", True),
        ("الأسرة", True),  # in the description, hamza on alef folded
        ("الاسره", True),  # ta marbuta typed as ha, bare alef
        ("زواج", False),
    ],
)
def test_search_is_normalized(portal_service: Service, query: str, found: bool) -> None:
    body = en().get(reverse("portal:services"), {"q": query}).content.decode()
    assert ("Family civil-registry extract" in body) is found
    if not found:
        assert "No service matches your search." in body


def test_service_page_shows_what_a_citizen_needs_to_know(
    portal_service: Service, center: Center, electronic: Center
) -> None:
    Fee.objects.create(
        service=portal_service,
        label_ar="رسم قديم",
        label_en="Old fee",
        amount=999,
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2025, 12, 31),
    )
    response = en().get(reverse("portal:service", args=[portal_service.code]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "100.00" in body and "Stamp" in body and "Old fee" not in body
    assert "Spouse&#x27;s national number" in body and "ID card copy" in body
    # Lists read with the language's comma: "," in English, "،" in Arabic.
    assert "Pickup at a center, By post" in body and "(National number, required)" in body
    assert "،" not in body
    arabic = Client().get(reverse("portal:service", args=[portal_service.code])).content.decode()
    assert "الاستلام من المركز، بالبريد" in arabic and "(الرقم الوطني، إلزامي)" in arabic
    assert "al-Inshaat center" in body and "Electronic center</li>" not in body
    assert f'href="{reverse("portal:apply", args=[portal_service.code])}"' in body


def test_unknown_or_inactive_service_is_404(service: Service) -> None:
    assert en().get(reverse("portal:service", args=["nope"])).status_code == 404
    Service.objects.filter(pk=service.pk).update(active=False)
    assert en().get(reverse("portal:service", args=[service.code])).status_code == 404
