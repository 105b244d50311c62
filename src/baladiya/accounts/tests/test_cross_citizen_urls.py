"""Citizen B, logged in, tries every URL of the site against citizen A's records.

The URL list is not kept by hand: every pattern of `get_resolver()` is walked, its parameters
filled with A's references, document and receipt numbers and ids, and asked with GET and POST
(A's identifiers also in the query string and the form). Whatever a new URL is, it is covered:
a parameter this test does not know fails it until a value is added to `_values`.

Never a 5xx; never a 200 with A's data, except on the public pages (document verification,
coverage, the catalog, login, the status lookup that needs A's reference and mobile, the
sandbox gateway's hosted page, whose payment id is its key); and nothing of A's changes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db.models import Model
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from baladiya.accounts.models import Citizen, User
from baladiya.applications import services as apps
from baladiya.applications.models import Application, Attachment
from baladiya.applications.workflow import TRANSITIONS
from baladiya.catalog.models import Service
from baladiya.centers.models import Center
from baladiya.core.models import AuditEvent
from baladiya.delivery.models import Handover, Shipment
from baladiya.documents.models import IssuedDocument
from baladiya.documents.services import issue_document
from baladiya.payments.gateways.services import start_online_payment
from baladiya.payments.models import PaymentIntent, Receipt, Refund
from baladiya.payments.services import record_gateway_payment

pytestmark = pytest.mark.django_db

# URL names (namespace:name) anyone may open, whatever the parameters: they show what their
# parameters unlock by design, or nothing personal.
PUBLIC = {
    "set_language",
    "public_keys",
    "core:home",
    "accounts:login",
    "accounts:logout",
    "centers:coverage",
    "verify:lookup",
    "verify:upload",
    "verify:detail",
    "portal:home",
    "portal:services",
    "portal:service",
    "portal:login",
    "portal:verify",
    "portal:logout",
    "portal:track",  # needs A's reference AND mobile: knowing both is the lookup's key
    "payments:sandbox_pay",  # the simulated gateway's own page: the payment id is its key
    "api-v1:openapi-json",
    "api-v1:openapi-view",
    "api-v1:api-root",
    "api-v1:verify",
}
FILE_TYPES = ("application/pdf", "image/", "application/octet-stream")
_LANG_FORM = re.compile(r'<form class="lang".*?</form>', re.S)
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


@dataclass
class Route:
    name: str  # namespace:name, or the route itself when unnamed
    route: str  # the concatenated pattern strings

    def paths(self, values: dict[str, list[str]]) -> Iterator[str]:
        params = list(dict.fromkeys(a or b for a, b in _PARAM.findall(self.route)))
        unknown = [p for p in params if p not in values]
        assert not unknown, f"{self.name}: add values for {unknown} to _values()"
        for combo in itertools.product(*(values[p] for p in params)):
            yield _fill(self.route, dict(zip(params, combo, strict=True)))


def _fill(route: str, filled: dict[str, str]) -> str:
    path = _PARAM.sub(lambda m: filled[m.group(1) or m.group(2)], route)
    return "/" + path.replace("^", "").replace("$", "")


def _routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, spaces: tuple[str, ...]) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry, route, (*spaces, entry.namespace) if entry.namespace else spaces)
            elif isinstance(entry, URLPattern):
                name = ":".join((*spaces, entry.name)) if entry.name else route
                found.append(Route(name, route))

    walk(get_resolver(), "", ())
    return found


@pytest.fixture
def gateway(settings: Any) -> None:
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    settings.PAYMENT_GATEWAY_DEFAULT = "sandbox"
    settings.PAYMENT_GATEWAY_SECRETS = {"sandbox": "cross-citizen-test-secret"}
    settings.PUBLIC_BASE_URL = "http://testserver"
    settings.WEBHOOK_TRANSPORT = "baladiya.payments.tests.gateway_helpers.client_transport"


def _account(citizen: Citizen) -> User:
    user = User(username=citizen.phone, citizen=citizen)
    user.set_unusable_password()
    user.save()
    return user


def _submit(clerk: User, citizen: Citizen, service: Service, center: Center) -> Application:
    return apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=center,
            fields={"purpose": "جامعة البعث"},
            delivery_mode="pickup",
            pickup_center=center,
        ),
    )


@dataclass
class Records:
    """Citizen A's records, and what identifies them."""

    user: User
    citizen: Citizen
    issued: Application  # paid, approved, document issued: ready for pickup
    waiting: Application  # awaiting payment, an online payment started
    document: IssuedDocument
    receipt: Receipt
    attachment: Attachment
    intent: PaymentIntent

    def rows(self) -> list[Model]:
        return [
            self.user,
            self.citizen,
            self.issued,
            self.waiting,
            self.document,
            self.receipt,
            self.attachment,
            self.intent,
        ]

    def secrets(self) -> list[str]:
        return [
            self.citizen.national_number,
            self.citizen.phone,
            self.citizen.last_name,
            self.issued.reference,
            self.waiting.reference,
            self.document.number,
            self.receipt.number,
        ]


@pytest.fixture
def records_of_a(
    citizen: Citizen, service: Service, clerk: User, center: Center, gateway: None
) -> Records:
    assert clerk.center is not None
    user = _account(citizen)
    issued = _submit(clerk, citizen, service, center)
    record_gateway_payment(issued, issued.fee_amount, "sandbox:tx-a")
    apps.start_review(issued, clerk)
    apps.approve(issued, clerk)
    document = issue_document(issued, clerk)
    attachment = Attachment.objects.create(
        application=issued,
        code="id-card",
        file=ContentFile(b"%PDF-1.7\n%%EOF\n", name="id.pdf"),
        original_name="id.pdf",
        content_type="application/pdf",
        size=15,
        sha256="0" * 64,
    )
    waiting = _submit(clerk, citizen, service, center)
    intent = start_online_payment(waiting, user, return_url="/payments/online/return/").intent
    return Records(
        user=user,
        citizen=citizen,
        issued=Application.objects.get(pk=issued.pk),
        waiting=waiting,
        document=document,
        receipt=Receipt.objects.get(application=issued),
        attachment=attachment,
        intent=PaymentIntent.objects.get(pk=intent.pk),
    )


@pytest.fixture
def citizen_b(service: Service, clerk: User, center: Center) -> User:
    """Another citizen, with a portal account and an application of their own."""
    other = Citizen.objects.create(
        national_number="04098765432",
        first_name="ليلى",
        father_name="سمير",
        last_name="العطار",
        phone="+963955000111",
    )
    _submit(clerk, other, service, center)
    return _account(other)


def _values(a: Records) -> dict[str, list[str]]:
    """What each URL parameter is filled with: A's identifiers (every one that fits)."""
    ids = [a.citizen.pk, a.user.pk, a.issued.pk, a.attachment.pk, a.intent.pk, a.document.pk]
    return {
        "reference": [a.issued.reference, a.waiting.reference],
        "number": [a.document.number, a.receipt.number],
        "pk": [str(i) for i in ids],
        "payment_id": [a.intent.gateway_payment_id],
        "service": [a.issued.service.code],
        "code": [a.issued.service.code],
        "action": sorted({*TRANSITIONS, "cancel"}),
        "gateway": ["sandbox"],
        # The admin (a citizen is sent to its login page whatever the object).
        "object_id": [str(a.issued.pk)],
        "app_label": ["applications"],
        "content_type_id": ["1"],
        "id": [str(a.issued.pk)],
        "url": ["no-such-page/"],
        "rest": ["v1/no-such-endpoint"],
    }


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _snapshot(a: Records) -> list[dict[str, Any]]:
    shots = []
    for row in a.rows():
        fresh = type(row)._default_manager.get(pk=row.pk)
        shots.append({k: str(v) for k, v in model_to_dict(fresh).items()})
    return shots


def test_citizen_b_gets_nothing_of_citizen_a_from_any_url(
    records_of_a: Records, citizen_b: User
) -> None:
    a = records_of_a
    values = _values(a)
    secrets = a.secrets()
    personal = secrets[:3]  # shown nowhere, not even echoed on an error page
    query = {
        "intent": str(a.intent.pk),
        "reference": a.issued.reference,
        "number": a.document.number,
        "phone": a.citizen.phone,
        "q": a.citizen.national_number,
        "idempotency_key": "cross-citizen",
    }
    before = _snapshot(a)
    counts = {
        m: m.objects.count()
        for m in (Application, PaymentIntent, Refund, Handover, Shipment, IssuedDocument)
    }
    last_event = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="10.0.0.66")
    asked = 0
    for route in _routes():
        for path in route.paths(values):
            for method in ("get", "post"):
                if client.session.get("_auth_user_id") != str(citizen_b.pk):
                    client.force_login(citizen_b)  # a logout URL was just asked
                response = getattr(client, method)(path, query)
                asked += 1
                where = f"{method.upper()} {path} ({route.name})"
                assert response.status_code < 500, (where, response.status_code)
                if route.name in PUBLIC:
                    continue
                body = _LANG_FORM.sub("", _body(response).decode("utf-8", "replace"))
                for secret in personal:
                    assert secret not in body, (where, response.status_code, secret)
                if response.status_code != 200:
                    continue
                kind = response.get("Content-Type", "")
                assert not kind.startswith(FILE_TYPES), (where, kind)  # no file of A's
                for secret in secrets:
                    assert secret not in body, (where, secret)
    assert asked > 400  # every URL was asked (and the admin's many)
    assert _snapshot(a) == before
    for model, count in counts.items():
        assert model.objects.count() == count, model.__name__
    new_events = AuditEvent.objects.filter(seq__gt=last_event or 0)
    touched = {str(row.pk) for row in a.rows()}
    assert not new_events.filter(object_id__in=touched).exists(), list(
        new_events.values_list("action", "object_id")
    )
