"""Applying online: the service's typed form, attachments checked by content, delivery by post
or at a chosen center; clear errors (English and Arabic) and nothing written on bad input;
a double submit makes one application."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from baladiya.accounts.models import User
from baladiya.applications.forms import new_token
from baladiya.applications.models import Application, Attachment
from baladiya.catalog.models import Service
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.models import AuditEvent
from baladiya.notifications.models import OutboxMessage
from baladiya.portal.tests.conftest import EXE, PDF, PNG, ClientFor, MakeAccount

pytestmark = pytest.mark.django_db


def _url(svc: Service) -> str:
    return reverse("portal:apply", args=[svc.code])


def _form(center: Center, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "token": new_token(),
        "f_spouse_number": "٠٤٠٩٨٧٦٥٤٣٢",
        "f_purpose": "المصرف التجاري",
        "att_id-card": SimpleUploadedFile("id.pdf", PDF, "application/pdf"),
        "delivery_mode": "pickup",
        "pickup_center": str(center.pk),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _nothing_written() -> None:
    assert not Application.objects.exists()
    assert not Attachment.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert not AuditEvent.objects.filter(action="application.submitted").exists()


@pytest.fixture
def web(client_for: ClientFor, citizen_user: User, electronic: Center) -> Client:
    return client_for(citizen_user)


def test_pickup_application_happy_path(
    web: Client, citizen_user: User, portal_service: Service, center: Center
) -> None:
    page = web.get(_url(portal_service))
    assert page.status_code == 200
    body = page.content.decode()
    assert re.search(r'name="token" value="[0-9a-f]{32}"', body)
    assert "al-Inshaat center" in body and "Electronic center" not in body.split("<main")[1]
    response = web.post(_url(portal_service), _form(center))
    app = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:application", args=[app.reference])
    assert app.reference.startswith("C00-") and app.channel == "online"
    assert app.center.code == "C00" and app.status == "submitted"
    assert app.applicant == citizen_user.citizen and app.created_by == citizen_user
    assert app.delivery_mode == "pickup" and app.pickup_center == center
    assert app.fee_amount == 10000 and app.delivery_address == {}
    assert app.field_values == {"spouse_number": "04098765432", "purpose": "المصرف التجاري"}
    attachment = Attachment.objects.get(application=app)
    assert attachment.code == "id-card" and attachment.content_type == "application/pdf"
    sms = OutboxMessage.objects.get()
    assert sms.recipient == "+963944123456" and app.reference in sms.body
    event = AuditEvent.objects.get(action="application.submitted")
    assert event.actor == citizen_user.username and event.center == "C00"
    detail = web.get(response["Location"]).content.decode()
    assert app.reference in detail and "submitted" in detail


def test_post_delivery_stores_the_address(
    web: Client, portal_service: Service, center: Center, waer: Neighbourhood
) -> None:
    data = _form(
        center,
        delivery_mode="post",
        pickup_center="",
        address_line="شارع الحضارة، بناء 4",
        address_neighbourhood=str(waer.pk),
        address_phone="0955 111 222",
    )
    assert web.post(_url(portal_service), data).status_code == 302
    app = Application.objects.get()
    assert app.delivery_mode == "post" and app.pickup_center is None
    assert app.delivery_address == {
        "line": "شارع الحضارة، بناء 4",
        "neighbourhood": "الوعر",
        "neighbourhood_id": str(waer.pk),
        "phone": "+963955111222",
    }


def test_double_submit_makes_one_application(
    web: Client, portal_service: Service, center: Center
) -> None:
    token = new_token()
    first = web.post(_url(portal_service), _form(center, token=token))
    second = web.post(_url(portal_service), _form(center, token=token))
    assert Application.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert OutboxMessage.objects.count() == 1


def test_another_citizens_token_does_not_reveal_their_application(
    web: Client,
    client_for: ClientFor,
    make_account: MakeAccount,
    other_citizen: Any,
    portal_service: Service,
    center: Center,
) -> None:
    token = new_token()
    web.post(_url(portal_service), _form(center, token=token))
    theirs = Application.objects.get()
    other = client_for(make_account(other_citizen.phone, other_citizen))
    response = other.post(_url(portal_service), _form(center, token=token))
    mine = Application.objects.exclude(pk=theirs.pk).get()
    assert mine.applicant == other_citizen
    assert response["Location"] == reverse("portal:application", args=[mine.reference])


Message = str | Callable[[], str]


def _text(message: Message) -> str:
    return message() if callable(message) else gettext(message)


def _errors_in_both_languages(
    client: Client, url: str, data_factory: Any, *messages: Message
) -> None:
    """The same bad input, in English then in Arabic: each message shown, 400, nothing saved.
    (Arabic: whatever the catalog says today, so the test survives the translators.)"""
    for language in ("en", "ar"):
        response = client.post(url, data_factory(), HTTP_ACCEPT_LANGUAGE=language)
        body = response.content.decode()
        assert response.status_code == 400
        assert f'lang="{language}"' in body
        with translation.override(language):
            expected = [_text(m) for m in messages]
        for message in expected:
            assert message.replace("'", "&#x27;") in body, message
    _nothing_written()


def test_bad_national_number_field(web: Client, portal_service: Service, center: Center) -> None:
    _errors_in_both_languages(
        web,
        _url(portal_service),
        lambda: _form(center, f_spouse_number="0409876"),
        "A national number is exactly 11 digits.",
    )


def test_missing_required_field(web: Client, portal_service: Service, center: Center) -> None:
    _errors_in_both_languages(
        web,
        _url(portal_service),
        lambda: _form(center, f_spouse_number=""),
        "This field is required.",
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("virus.pdf", EXE), "Only PDF, PNG or JPEG files are accepted."),
        (
            ("scan.pdf", PNG),
            lambda: (
                gettext(
                    "The file is named as a %(named)s but its content is a %(actual)s. "
                    "Scan or save it again."
                )
                % {"named": "PDF", "actual": "PNG"}
            ),
        ),
        (("empty.pdf", b""), "The submitted file is empty."),
    ],
)
def test_bad_upload(
    web: Client,
    portal_service: Service,
    center: Center,
    upload: tuple[str, bytes],
    message: Message,
) -> None:
    name, content = upload
    _errors_in_both_languages(
        web,
        _url(portal_service),
        lambda: _form(center, **{"att_id-card": SimpleUploadedFile(name, content)}),
        message,
    )


def test_too_large_upload(
    web: Client, portal_service: Service, center: Center, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 1024
    big = PDF + b"0" * 2048
    response = web.post(
        _url(portal_service),
        _form(center, **{"att_id-card": SimpleUploadedFile("big.pdf", big)}),
    )
    assert response.status_code == 400
    assert "The file is too large" in response.content.decode()
    _nothing_written()


def test_missing_attachment(web: Client, portal_service: Service, center: Center) -> None:
    _errors_in_both_languages(
        web,
        _url(portal_service),
        lambda: _form(center, **{"att_id-card": None}),
        "Attach this document (PDF, PNG or JPEG).",
    )


def test_post_without_address_neighbourhood_or_phone(
    web: Client, portal_service: Service, center: Center
) -> None:
    _errors_in_both_languages(
        web,
        _url(portal_service),
        lambda: _form(center, delivery_mode="post", pickup_center="", address_phone=""),
        "A postal address is required for delivery by post.",
        "Choose your neighbourhood.",
        "Enter a mobile number for the postman.",
    )


def test_post_with_a_bad_phone(
    web: Client, portal_service: Service, center: Center, waer: Neighbourhood
) -> None:
    response = web.post(
        _url(portal_service),
        _form(
            center,
            delivery_mode="post",
            address_line="شارع",
            address_neighbourhood=str(waer.pk),
            address_phone="12345",
        ),
    )
    assert response.status_code == 400
    assert "Enter a Syrian mobile number" in response.content.decode()
    _nothing_written()


def test_pickup_without_a_center(web: Client, portal_service: Service, center: Center) -> None:
    _errors_in_both_languages(
        web,
        _url(portal_service),
        lambda: _form(center, pickup_center=""),
        "Choose the center where it will be picked up.",
    )


def test_pickup_at_a_center_that_does_not_hand_over(
    web: Client, portal_service: Service, center: Center, electronic: Center
) -> None:
    center.accepts_pickup = False
    center.save()
    for where in (electronic, center):
        response = web.post(_url(portal_service), _form(center, pickup_center=str(where.pk)))
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    _nothing_written()


def test_a_delivery_mode_the_service_does_not_offer(
    web: Client, back_office_service: Service, center: Center, waer: Neighbourhood
) -> None:
    data = _form(
        center,
        delivery_mode="post",
        address_line="شارع",
        address_neighbourhood=str(waer.pk),
        **{"att_id-card": None, "f_spouse_number": None, "f_purpose": None},
    )
    response = web.post(_url(back_office_service), data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    _nothing_written()


def test_forged_token_is_refused_and_a_fresh_one_given(
    web: Client, portal_service: Service, center: Center
) -> None:
    response = web.post(_url(portal_service), _form(center, token="../../etc"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "This form has expired" in body
    assert re.search(r'name="token" value="[0-9a-f]{32}"', body)
    _nothing_written()


def test_without_the_electronic_center_nothing_is_written(
    client_for: ClientFor, citizen_user: User, portal_service: Service, center: Center
) -> None:
    response = client_for(citizen_user).post(_url(portal_service), _form(center))
    assert response.status_code == 400
    assert "The electronic center is not set up yet" in response.content.decode()
    _nothing_written()


def test_who_may_apply(
    client_for: ClientFor,
    make_account: MakeAccount,
    clerk: User,
    portal_service: Service,
    electronic: Center,
) -> None:
    url = _url(portal_service)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next={url}"
    response = client_for(make_account("+963933444555")).get(url)
    assert response["Location"].startswith(reverse("portal:profile") + "?next=")
    assert client_for(clerk).get(url).status_code == 403
    assert Client().post(url, {}).status_code == 302
    _nothing_written()
