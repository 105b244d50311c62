"""The citizen's profile: a national number links the account to a citizen record, but never
to someone else's (the record must carry the verified mobile, and not be linked already)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import citizen_of
from baladiya.accounts.services import (
    ProfileRefused,
    ProfileThrottled,
    complete_profile,
)
from baladiya.core.audit import verify_chain
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db
NEW_PHONE = "+963933444555"


@pytest.fixture
def account(db: None) -> Callable[[str], User]:
    def make(phone: str) -> User:
        user = User(username=phone)
        user.set_unusable_password()
        user.save()
        return user

    return make


def _profile(user: User, number: str, **names: Any) -> Citizen:
    names.setdefault("first_name", "سارة")
    names.setdefault("last_name", "النجار")
    return complete_profile(user, national_number=number, **names)


def test_new_national_number_creates_the_record_with_the_verified_mobile(account: Any) -> None:
    user = account(NEW_PHONE)
    person = _profile(user, "04011122233", father_name="خالد", birth_date=dt.date(1995, 3, 1))
    assert person.phone == NEW_PHONE and person.full_name == "سارة خالد النجار"
    user.refresh_from_db()
    assert citizen_of(user) == person
    event = AuditEvent.objects.get(action="citizen.profile_created")
    assert event.actor == NEW_PHONE and event.object_id == str(person.pk)
    assert not verify_chain()


def test_known_record_with_the_same_mobile_is_linked_as_is(account: Any, citizen: Citizen) -> None:
    user = account(citizen.phone)
    linked = _profile(user, citizen.national_number, first_name="اسم", last_name="آخر")
    assert linked.pk == citizen.pk
    citizen.refresh_from_db()
    assert citizen.first_name == "أحمد"  # the registry's record is not rewritten
    assert Citizen.objects.count() == 1
    assert AuditEvent.objects.filter(action="citizen.profile_linked").count() == 1


def test_known_record_with_another_mobile_is_refused(account: Any, citizen: Citizen) -> None:
    intruder = account(NEW_PHONE)
    with pytest.raises(ProfileRefused) as info:
        _profile(intruder, citizen.national_number)
    assert "visit a service center" in str(info.value.message)
    intruder.refresh_from_db()
    assert intruder.citizen is None
    assert AuditEvent.objects.filter(action="citizen.link_refused", actor=NEW_PHONE).exists()


def test_record_already_linked_to_another_account_is_refused(
    account: Any, citizen: Citizen
) -> None:
    first = account(citizen.phone)
    _profile(first, citizen.national_number)
    # The record's mobile is changed at a counter, but the first account still holds it.
    Citizen.objects.filter(pk=citizen.pk).update(phone=NEW_PHONE)
    second = account(NEW_PHONE)
    with pytest.raises(ProfileRefused):
        _profile(second, citizen.national_number)


def test_a_record_with_no_mobile_is_not_claimable(account: Any, citizen: Citizen) -> None:
    Citizen.objects.filter(pk=citizen.pk).update(phone="")
    with pytest.raises(ProfileRefused):
        _profile(account(NEW_PHONE), citizen.national_number)


def test_mobile_stored_in_a_local_form_still_matches(account: Any, citizen: Citizen) -> None:
    Citizen.objects.filter(pk=citizen.pk).update(phone="0944 123 456")
    assert _profile(account("+963944123456"), citizen.national_number).pk == citizen.pk


@pytest.mark.parametrize("number", ["0401234567", "040123456789", "04O12345678", ""])
def test_bad_national_number_is_refused_and_nothing_written(account: Any, number: str) -> None:
    user = account(NEW_PHONE)
    with pytest.raises(DomainError) as info:
        _profile(user, number)
    assert "exactly 11 digits" in str(info.value.message)
    assert not Citizen.objects.exists()


def test_names_are_required(account: Any) -> None:
    with pytest.raises(DomainError):
        _profile(account(NEW_PHONE), "04011122233", first_name="  ")
    assert not Citizen.objects.exists()


def test_profile_is_completed_once(account: Any) -> None:
    user = account(NEW_PHONE)
    _profile(user, "04011122233")
    with pytest.raises(Conflict):
        _profile(user, "04011122244")
    assert Citizen.objects.count() == 1


def test_probing_national_numbers_is_limited(account: Any, citizen: Citizen) -> None:
    user = account(NEW_PHONE)
    for _ in range(5):
        with pytest.raises(ProfileRefused):
            _profile(user, citizen.national_number)
    with pytest.raises(ProfileThrottled):
        _profile(user, "04011122233")  # even a fresh number, for a while
    assert Citizen.objects.count() == 1


def test_staff_cannot_complete_a_citizen_profile(make_user: Callable[..., User]) -> None:
    clerk = make_user("clerk99", roles.CLERK)
    with pytest.raises(NotAllowed):
        _profile(clerk, "04011122233")


def test_profile_page_shows_the_refusal_clearly(account: Any, citizen: Citizen) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(account(NEW_PHONE))
    response = client.post(
        reverse("portal:profile"),
        {"national_number": citizen.national_number, "first_name": "x", "last_name": "y"},
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "registered with another mobile number" in body
    assert citizen.first_name not in body  # nothing of the other person is shown
    response = client.post(
        reverse("portal:profile"),
        {"national_number": "123", "first_name": "x", "last_name": "y"},
    )
    assert "exactly 11 digits" in response.content.decode()
