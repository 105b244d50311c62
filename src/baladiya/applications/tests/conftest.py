"""Helpers for the counter and back-office tests: logged-in clients and ready applications."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.testing import logged_in

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32

LoginAs = Callable[[User], Client]
MakeApp = Callable[..., Application]


@pytest.fixture
def login_as(db: None) -> LoginAs:
    return logged_in


@pytest.fixture
def make_app(citizen: Citizen, service: Service, clerk: User, center: Center) -> MakeApp:
    """Submit through the service layer, then walk the state machine to `status`."""

    def make(
        *,
        svc: Service | None = None,
        by: User | None = None,
        at: Center | None = None,
        status: str = "submitted",
        reviewer: User | None = None,
    ) -> Application:
        svc = svc or service
        actor = by or clerk
        where = at or center
        fields = {f.name: "وزارة الداخلية" for f in svc.fields.all()}
        app = services.submit_application(
            actor,
            services.Submission(
                service=svc,
                applicant=citizen,
                center=where,
                fields=fields,
                delivery_mode="pickup",
                pickup_center=where,
            ),
        )
        if status == "submitted":
            return app
        services.move(app, "pay", None, check_permission=False)  # a verified gateway payment
        if status == "paid":
            return app
        services.start_review(app, reviewer or actor)
        if status == "in_review":
            return app
        if status == "approved":
            services.approve(app, reviewer or actor)
            return app
        raise ValueError(status)

    return make
