"""Post fixtures: the electronic center, officers of two agencies, applications issued for the
post (online or at the counter), and an outbox transport that posts callbacks to this server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application, Channel
from baladiya.catalog.models import Agency, Service
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.testing import logged_in
from baladiya.documents.services import issue_document
from baladiya.notifications.senders import TransientFailure

SECRET = "test-post-secret"  # a test-only secret
ADDRESS = {"line": "شارع الحضارة، بناء 12، الطابق الثاني", "neighbourhood": "الإنشاءات"}
ADDRESS_PHONE = "+963944555666"

MakePostApp = Callable[..., Application]


def via_test_client(url: str, body: str, headers: dict[str, str]) -> str:
    """The outbox's webhook transport for tests: POST to this Django, like the real one would
    over HTTP (non-2xx is a failure the outbox retries)."""
    response = Client().post(
        urlsplit(url).path, data=body, content_type="application/json", headers=headers
    )
    if response.status_code >= 300:
        raise TransientFailure(f"HTTP {response.status_code}")
    return f"HTTP {response.status_code}"


@pytest.fixture(autouse=True)
def _post_settings(settings: Any) -> None:
    settings.POSTAL_SERVICE = "baladiya.delivery.post.sandbox.SandboxPostalService"
    settings.POST_CALLBACK_SECRET = SECRET
    settings.POST_CALLBACK_URL = ""
    settings.POST_SANDBOX_DOWN = False
    settings.PUBLIC_BASE_URL = "https://baladiya.example"
    settings.WEBHOOK_TRANSPORT = f"{__name__}.via_test_client"


@pytest.fixture
def inshaat(center: Center) -> Neighbourhood:
    """al-Inshaat, served by C03."""
    hood = Neighbourhood.objects.create(name_ar="الإنشاءات", name_en="al-Inshaat")
    center.neighbourhoods.add(hood)
    return hood


@pytest.fixture
def civil_officer(make_user: Callable[..., User], agency: Agency) -> User:
    return make_user("officer.civil", roles.OFFICER, agency=agency, full_name="لمى الأتاسي")


@pytest.fixture
def justice_officer(make_user: Callable[..., User]) -> User:
    justice = Agency.objects.create(code="justice", name_ar="وزارة العدل", name_en="Justice")
    return make_user("officer.justice", roles.OFFICER, agency=justice)


@pytest.fixture
def make_post_app(
    citizen: Citizen,
    service: Service,
    clerk: User,
    civil_officer: User,
    electronic_center: Center,
    inshaat: Neighbourhood,
) -> MakePostApp:
    """Submit (online at C00 by default, or at the clerk's counter), pay, review, approve and
    issue; by post to an al-Inshaat address unless `pickup` is given."""

    def make(
        *,
        online: bool = True,
        pickup: Center | None = None,
        address: dict[str, str] | None = None,
        status: str = "issued",
        applicant: Citizen | None = None,
    ) -> Application:
        mode = "pickup" if pickup is not None else "post"
        app = apps.submit_application(
            None if online else clerk,
            apps.Submission(
                service=service,
                applicant=applicant or citizen,
                center=electronic_center if online else clerk.center,  # type: ignore[arg-type]
                fields={"purpose": "جامعة البعث"},
                delivery_mode=mode,
                pickup_center=pickup,
                delivery_address=(
                    {**ADDRESS, "phone": ADDRESS_PHONE} if address is None else address
                )
                if mode == "post"
                else {},
                channel=Channel.ONLINE if online else Channel.COUNTER,
            ),
        )
        apps.move(app, "pay", None, check_permission=False)  # a verified gateway payment
        if status == "paid":
            return app
        worker = civil_officer if online else clerk
        apps.start_review(app, worker)
        apps.approve(app, worker)
        if status == "approved":
            return app
        issue_document(app, worker)
        return app

    return make


@pytest.fixture
def post_app(make_post_app: MakePostApp) -> Application:
    """An online application issued for the post, waiting to be dispatched."""
    return make_post_app()


client_for = logged_in
