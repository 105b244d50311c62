"""The counter's search box: national number, Arabic names in any common spelling, references."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.accounts.models import Citizen, User
from baladiya.applications.tests.conftest import LoginAs, MakeApp

pytestmark = pytest.mark.django_db
COUNTER = "/applications/counter/"


@pytest.fixture
def people(citizen: Citizen) -> dict[str, Citizen]:
    return {
        "ahmad": citizen,  # أحمد محمد الحمصي, mother فاطمة
        "fatima": Citizen.objects.create(
            national_number="04012345679", first_name="فاطمة", last_name="الزهراء"
        ),
        "mustafa": Citizen.objects.create(
            national_number="05099999999", first_name="مصطفى", last_name="عيسى"
        ),
    }


def _names(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.full_name for c in response.context["results"]}


def test_search_box_has_autofocus_and_accesskey(login_as: LoginAs, clerk: User) -> None:
    body = login_as(clerk).get(COUNTER).content.decode()
    assert 'name="q"' in body and "autofocus" in body and 'accesskey="s"' in body


def test_full_national_number_opens_the_citizen(
    login_as: LoginAs, clerk: User, people: dict[str, Citizen]
) -> None:
    response = login_as(clerk).get(COUNTER, {"q": "04012345678"})
    assert response.status_code == 302
    assert response["Location"] == reverse("applications:citizen", args=[people["ahmad"].pk])


def test_national_number_in_arabic_digits(
    login_as: LoginAs, clerk: User, people: dict[str, Citizen]
) -> None:
    response = login_as(clerk).get(COUNTER, {"q": "٠٤٠١٢٣٤٥٦٧٨"})
    assert response["Location"] == reverse("applications:citizen", args=[people["ahmad"].pk])


def test_partial_national_number_lists_matches(
    login_as: LoginAs, clerk: User, people: dict[str, Citizen]
) -> None:
    response = login_as(clerk).get(COUNTER, {"q": "0401234567"})
    assert response.status_code == 200
    assert _names(response) == {"أحمد محمد الحمصي", "فاطمة الزهراء"}
    assert "04012345678" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("احمد", "أحمد محمد الحمصي"),  # hamza: typed without it
        ("أحمد الحمصي", "أحمد محمد الحمصي"),  # several words, any order in the name
        ("أَحْمَد", "أحمد محمد الحمصي"),  # diacritics
        ("فاطمه", "فاطمة الزهراء"),  # ta marbuta typed as ha
        ("مصطفي", "مصطفى عيسى"),  # alef maqsura typed as ya
        ("مصطـفى", "مصطفى عيسى"),  # tatweel
    ],
)
def test_name_search_folds_spelling_variants(
    login_as: LoginAs, clerk: User, people: dict[str, Citizen], query: str, who: str
) -> None:
    response = login_as(clerk).get(COUNTER, {"q": query})
    assert response.status_code == 200
    assert _names(response) == {who}


def test_no_match_says_so_and_offers_registration_prefilled(
    login_as: LoginAs, clerk: User, people: dict[str, Citizen]
) -> None:
    response = login_as(clerk).get(COUNTER, {"q": "04077777777"})
    body = response.content.decode()
    assert "No citizen found" in body
    assert response.context["form"].initial["national_number"] == "04077777777"


def test_a_reference_opens_the_application(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app()
    response = login_as(clerk).get(COUNTER, {"q": app.reference.lower()})
    assert response["Location"] == reverse("applications:detail", args=[app.reference])


def test_counter_is_for_clerks(login_as: LoginAs, cashier: User, auditor: User) -> None:
    assert login_as(cashier).get(COUNTER).status_code == 403
    assert login_as(auditor).get(COUNTER).status_code == 403


def test_counter_needs_login() -> None:
    response = Client().get(COUNTER)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_todays_applications_of_my_center_are_listed(
    login_as: LoginAs, clerk: User, make_app: MakeApp
) -> None:
    app = make_app()
    assert app.reference in login_as(clerk).get(COUNTER).content.decode()


def test_clerk_without_a_center_is_told_why(login_as: LoginAs, make_user) -> None:  # type: ignore[no-untyped-def]
    from baladiya.accounts import roles

    floating = make_user("floating", roles.CLERK)
    response = login_as(floating).get(COUNTER)
    assert response.status_code == 403
    assert "not attached to a center" in response.content.decode()
