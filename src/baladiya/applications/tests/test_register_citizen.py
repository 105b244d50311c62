"""Registering a citizen at the counter: validated identifiers, nothing created on error."""

from __future__ import annotations

import pytest

from baladiya.accounts.models import Citizen, User
from baladiya.applications.tests.conftest import LoginAs
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db
COUNTER = "/applications/counter/"

GOOD = {
    "national_number": "04011112222",
    "first_name": "خالد",
    "father_name": "سعيد",
    "last_name": "الأتاسي",
    "mother_name": "مريم",
    "birth_date": "1985-03-02",
    "phone": "0944 123 456",
}


def test_register_creates_the_citizen_and_opens_their_page(login_as: LoginAs, clerk: User) -> None:
    response = login_as(clerk).post(COUNTER, {**GOOD, "action": "register"})
    person = Citizen.objects.get(national_number="04011112222")
    assert response.status_code == 302
    assert response["Location"] == f"/applications/citizens/{person.pk}/"
    assert person.phone == "+963944123456"  # normalized
    assert person.name_normalized == "خالد سعيد الاتاسي"
    event = AuditEvent.objects.get(action="citizen.registered")
    assert event.actor == "clerk03" and event.center == "C03"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("national_number", "0401111222", "exactly 11 digits"),
        ("national_number", "0401111222X", "exactly 11 digits"),
        ("phone", "0811 123 456", "Syrian mobile number"),
        ("birth_date", "2999-01-01", "out of range"),
        ("last_name", "", "This field is required"),
    ],
)
def test_bad_input_shows_the_error_and_creates_nothing(
    login_as: LoginAs, clerk: User, field: str, value: str, message: str
) -> None:
    response = login_as(clerk).post(COUNTER, {**GOOD, field: value})
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not Citizen.objects.exists()
    assert not AuditEvent.objects.filter(action="citizen.registered").exists()


def test_duplicate_national_number_is_refused(
    login_as: LoginAs, clerk: User, citizen: Citizen
) -> None:
    response = login_as(clerk).post(COUNTER, {**GOOD, "national_number": citizen.national_number})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Citizen.objects.count() == 1


def test_arabic_digits_are_accepted(login_as: LoginAs, clerk: User) -> None:
    login_as(clerk).post(COUNTER, {**GOOD, "national_number": "٠٤٠١١١١٢٢٢٢"})
    assert Citizen.objects.filter(national_number="04011112222").exists()


def test_only_clerks_register_at_the_counter(login_as: LoginAs, cashier: User) -> None:
    assert login_as(cashier).post(COUNTER, GOOD).status_code == 403
    assert not Citizen.objects.exists()
