"""What every page stands on: the stylesheet is served by the live server and applied, pages
are Arabic and right-to-left by default, and the language switch turns a page into English
(left-to-right) and back, keeping the visitor on the same page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from baladiya.accounts.models import User
from baladiya.e2e.tests.conftest import arabic, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STYLESHEET = "/static/baladiya/app.css"


def test_stylesheet_loads_and_is_applied(page: Page) -> None:
    with page.expect_response(lambda r: r.url.endswith(STYLESHEET)) as info:
        page.goto("/")
    css = info.value
    assert css.status == 200
    assert css.headers["content-type"].startswith("text/css")
    # Applied: the header has the brand colour defined in app.css.
    expect(page.locator("header.top")).to_have_css("background-color", "rgb(11, 93, 75)")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")


def test_language_switch_to_english_and_back(page: Page, clerk: User) -> None:
    login(page, clerk.username)
    expect(page).to_have_url(re.compile(r"/applications/counter/$"))
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_contain_text(arabic("Counter"))

    page.locator("form.lang").get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/applications/counter/$"))  # same page
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")
    expect(page.locator("h1")).to_contain_text("Counter")
    expect(page.get_by_role("button", name="Search")).to_be_visible()
    expect(page.locator("label[for=q]")).to_have_text(
        "National number, name or application reference"
    )
    # The choice sticks across pages.
    page.locator(".main-nav").get_by_role("link", name="Pickup", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Documents waiting for pickup")
    expect(html).to_have_attribute("dir", "ltr")

    page.locator("form.lang").get_by_role("button", name="العربية").click()
    expect(html).to_have_attribute("lang", "ar")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.locator("h1")).to_contain_text(arabic("Documents waiting for pickup"))
