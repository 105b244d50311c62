"""Every portal page stays light: at most 60 KB transferred with gzip, counting the page and
the stylesheet and script it loads; and no asset comes from another site."""

from __future__ import annotations

import datetime as dt
import gzip
import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.catalog.models import Agency, Fee, FieldType, Service, ServiceField
from baladiya.centers.models import Center
from baladiya.portal.tests.conftest import ClientFor, MakeAccount

pytestmark = pytest.mark.django_db
BUDGET = 60 * 1024
_ASSET = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)"')


@pytest.fixture
def big_catalog(agency: Agency, center: Center) -> Iterator[list[Service]]:
    """A catalog the size of the council's (and then some): 60 services with fields."""
    services = []
    for i in range(60):
        svc = Service.objects.create(
            code=f"svc-{i:02d}",
            agency=agency,
            name_ar=f"خدمة رقم {i} لاستخراج بيان من السجلات الرسمية",
            name_en=f"Service {i}: an extract from the official registers",
            description_ar="وصف الخدمة وما تحتاجه من أوراق. " * 5,
            delivery_modes=["pickup", "post"],
            document_template="certificate.typ",
            document_title_ar="بيان",
            document_title_en="Extract",
        )
        for j in range(4):
            ServiceField.objects.create(
                service=svc,
                name=f"field{j}",
                label_ar=f"حقل {j}",
                label_en=f"Field {j}",
                type=FieldType.TEXT,
                position=j,
            )
        Fee.objects.create(
            service=svc, label_ar="رسم", label_en="Fee", amount=5000, valid_from=dt.date(2026, 1, 1)
        )
        services.append(svc)
    for i in range(8):
        Center.objects.create(
            code=f"C1{i}", name_ar=f"مركز {i}", name_en=f"Center {i}", kind="neighbourhood"
        )
    yield services


@pytest.fixture
def many_applications(citizen_user: User, big_catalog: list[Service], electronic: Center) -> str:
    """A citizen with a long history: 40 applications (the list shows 30 a page)."""
    assert citizen_user.citizen is not None
    reference = ""
    for i in range(40):
        reference = f"C00-26-{i + 1:06d}"
        Application.objects.create(
            reference=reference,
            service=big_catalog[i],
            applicant=citizen_user.citizen,
            center=electronic,
            channel="online",
            field_values={f"field{j}": "قيمة نصية متوسطة الطول" for j in range(4)},
            fee_amount=5000,
            sla_due=dt.date(2026, 12, 1),
            pickup_center=electronic,
        )
    return reference


def _transferred(client: Client, url: str, method: str = "get", **data: str) -> int:
    response = getattr(client, method)(url, data, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code in (200, 404), (url, response.status_code)
    if response.get("Content-Encoding") == "gzip":
        html = gzip.decompress(response.content).decode()
        size = len(response.content)
    else:  # too small for the middleware to bother
        html = response.content.decode()
        assert len(response.content) < 200, url
        size = len(response.content)
    for asset in _ASSET.findall(html):
        assert asset.startswith("/") and not asset.startswith("//"), f"external asset {asset}"
        size += _asset_size(client, asset)
    return size


_sizes: dict[str, int] = {}


def _asset_size(client: Client, path: str) -> int:
    if path not in _sizes:
        response = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[arg-type]
        if response.get("Content-Encoding") != "gzip":
            body = gzip.compress(body)  # what any server compressing text would send
        _sizes[path] = len(body)
    return _sizes[path]


def test_every_portal_page_is_under_60_kb(
    client_for: ClientFor,
    citizen_user: User,
    make_account: MakeAccount,
    big_catalog: list[Service],
    many_applications: str,
) -> None:
    anonymous = Client()
    citizen = client_for(citizen_user)
    newcomer = client_for(make_account("+963933444555"))
    svc = big_catalog[0]
    sizes = {
        "home": _transferred(anonymous, reverse("portal:home")),
        "services": _transferred(anonymous, reverse("portal:services")),
        "search": _transferred(anonymous, reverse("portal:services"), q="بيان"),
        "service": _transferred(anonymous, reverse("portal:service", args=[svc.code])),
        "track": _transferred(anonymous, reverse("portal:track")),
        "track result": _transferred(
            anonymous,
            reverse("portal:track"),
            "post",
            reference=many_applications,
            phone=citizen_user.username,
        ),
        "login": _transferred(anonymous, reverse("portal:login")),
        "profile form": _transferred(newcomer, reverse("portal:profile")),
        "profile": _transferred(citizen, reverse("portal:profile")),
        "apply": _transferred(citizen, reverse("portal:apply", args=[svc.code])),
        "applications": _transferred(citizen, reverse("portal:applications")),
        "application": _transferred(
            citizen, reverse("portal:application", args=[many_applications])
        ),
    }
    session = anonymous.session
    session["portal_otp_phone"] = "+963933444555"
    session.save()
    sizes["code"] = _transferred(anonymous, reverse("portal:verify"))
    too_big = {name: size for name, size in sizes.items() if size > BUDGET}
    assert not too_big, too_big
    # The pages themselves compress: a page alone is a few KB.
    assert max(sizes.values()) - _sizes["/static/django_htmx/htmx-2.min.js"] < 20 * 1024


def test_pages_are_compressed_when_the_browser_accepts_it() -> None:
    response = Client().get(reverse("portal:home"), HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    plain = Client().get(reverse("portal:home"))
    assert not plain.has_header("Content-Encoding")
    assert len(response.content) < len(plain.content)
