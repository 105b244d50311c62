"""What every page stands on: the stylesheet is served by the live server and applied, pages
are Arabic and right-to-left by default, and the language switch turns a page into English
(left-to-right) and back, keeping the visitor on the same page."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from baladiya.accounts.models import Citizen, User
from baladiya.applications.models import Application
from baladiya.catalog.models import Service
from baladiya.core.seed.homs import seed_homs
from baladiya.documents.models import IssuedDocument
from baladiya.e2e.tests.conftest import arabic, login, sign_up

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


def test_phone_header_links_get_full_rows(page: Page) -> None:
    """On a phone the links sit in full-width rows under the brand, each on one line (they
    were squeezed into a narrow column beside it, "الدخول أو إنشاء حساب" over three lines)."""
    page.set_viewport_size({"width": 400, "height": 850})
    page.goto("/e/")
    header = page.locator("header.top").bounding_box()
    nav = page.locator("header.top .main-nav").bounding_box()
    assert header and nav
    assert nav["width"] > 0.85 * header["width"]
    links = page.locator("header.top .main-nav a")
    assert links.count() >= 4
    line = float(links.first.evaluate("a => parseFloat(getComputedStyle(a).lineHeight)"))
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["height"] < 1.5 * line, links.nth(i).inner_text()


def test_a_date_in_a_table_stays_on_one_line(page: Page, clerk: User, citizen: Citizen) -> None:
    """In the counter's search results the birth date reads `1990-05-17`, never `1990-05-`
    and `17` on two lines."""
    Citizen.objects.create(  # two matches: a list, not straight to the one citizen's page
        national_number="04012345679", first_name="سامي", father_name="محمد", last_name="الحمصي"
    )
    login(page, clerk.username)
    page.set_viewport_size({"width": 900, "height": 800})
    page.locator("#q").fill(citizen.last_name)
    page.locator("#q").press("Enter")
    cell = page.locator("td bdi", has_text="1990-05-17")
    expect(cell).to_be_visible()
    line = float(cell.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)"))
    box = cell.bounding_box()
    assert box and box["height"] < 1.5 * line


def test_phone_service_list_is_one_card_per_service(page: Page, service: Service) -> None:
    """On a phone the catalog is a card per service (its name, then "Agency: …", "Fee: …"),
    not four columns of words wrapped one or two to a line; a wide screen keeps the table."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/e/services/")
    expect(page.locator("table.cards thead")).to_be_hidden()
    row = page.locator("table.cards tbody tr").first
    table = page.locator("table.cards").bounding_box()
    card = row.bounding_box()
    assert table and card and card["width"] > 0.95 * table["width"]
    agency = row.locator("td[data-label]").first
    label = agency.evaluate("td => getComputedStyle(td, '::before').content")
    assert arabic("Agency") in label
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.locator("table.cards thead")).to_be_visible()


def test_portal_pages_fit_a_phone_screen(page: Page, outside_world: str) -> None:
    """No citizen page of the Homs catalog is wider than a phone (390 px): nothing to scroll
    sideways. The apply form was 470 px wide: its list of the eleven pickup centers, named
    in full, was longer than the screen."""
    seed_homs()
    service = Service.objects.get(code="bank-statement")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/e/")
    sign_up(
        page,
        typed_phone="0933444555",
        phone="+963933444555",
        national_number="04011122233",
        first_name="سارة",
        last_name="النجار",
    )
    for path in (
        "/e/",
        "/e/services/",
        f"/e/services/{service.code}/",
        f"/e/services/{service.code}/apply/",
        "/e/applications/",
        "/e/track/",
        "/verify/",
    ):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"

    # An application's page, whose form has long labels ("monthly rent (new pounds)"): the
    # labels wrap, the values stay on the screen (before, the page was 472 px wide).
    app = _lease_application(User.objects.get(username="+963933444555"))
    page.goto(f"/e/applications/{app.reference}/")
    expect(page.locator("dl.facts").first).to_contain_text("357")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def _lease_application(user: User) -> Application:
    import hashlib

    from baladiya.centers.models import Center
    from baladiya.core.uploads import CheckedUpload
    from baladiya.portal.services import apply_online

    pdf = b"%PDF-1.4\n%%EOF\n"
    paper = CheckedUpload(pdf, "application/pdf", hashlib.sha256(pdf).hexdigest(), "a.pdf")
    return apply_online(
        user,
        Service.objects.get(code="council-lease-certification"),
        fields={
            "national_number": "04011122233",
            "tenant_national_number": "04011122244",
            "start_date": "2026-08-10",
            "duration_months": 12,
            "monthly_rent": 357,
            "use": "تجاري",
            "phone": "+963933444555",
        },
        delivery_mode="pickup",
        pickup_center=Center.objects.get(code="C09"),
        delivery_address={},
        attachments={"contract": paper, "title": paper},
        token="lease-1",
    )


def test_supervision_fits_a_phone_its_wide_tables_scroll_in_place(
    page: Page, supervisor: User, clerk: User, citizen: Citizen, service: Service
) -> None:
    """A supervisor looking at the supervision page on a phone: the page is as wide as the
    screen; the tables with many columns (by status, overdue, in review, all applications)
    scroll sideways inside their own box. Before, the whole page was 884 px wide."""
    from baladiya.applications import services as apps

    for _ in range(2):
        app = _at_the_counter(clerk, citizen, service)
        apps.move(app, "pay", None, check_permission=False)
        apps.start_review(app, clerk)
    login(page, supervisor.username)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/applications/supervisor/")
    expect(page.locator("#by-day svg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    in_review = page.locator("div.scroll:has(table.apps)").first
    assert in_review.evaluate("b => b.scrollWidth > b.clientWidth")  # it scrolls, in place


def test_every_staff_screen_in_the_menus_fits_a_phone(
    new_page: Callable[..., Page],
    ready_document: IssuedDocument,
    clerk: User,
    cashier: User,
    supervisor: User,
    officer: User,
    auditor: User,
    admin_user: User,
    make_user: Callable[..., User],
    citizen: Citizen,
    service: Service,
) -> None:
    """Every role, every screen of its menu, on a 390 px phone: the page is as wide as the
    screen, and a table with many columns scrolls sideways in its own box. Before, in the
    Homs demo, 39 of the 62 screens the seven roles' menus lead to were wider than the
    phone, up to 944 px (the cashier's queue, the pickup queue, the back office, the
    reconciliation, the settlements, the catalog...)."""
    from baladiya.accounts import roles

    _at_the_counter(clerk, citizen, service)  # waits for the cashier
    finance = make_user("finance01", roles.FINANCE)
    too_wide = []
    for user in (clerk, cashier, supervisor, officer, auditor, admin_user, finance):
        page = new_page("ar")
        page.set_viewport_size({"width": 390, "height": 844})
        login(page, user.username)
        menu = page.locator("header a[href^='/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        for path in dict.fromkeys([urlsplit(page.url).path, *menu]):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                too_wide.append(f"{user.username} {path}: {width} px")
    assert not too_wide


def _at_the_counter(clerk: User, citizen: Citizen, service: Service) -> Application:
    """An application submitted at the clerk's counter, to be collected there."""
    from baladiya.applications import services as apps

    return apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,  # type: ignore[arg-type]
            fields={f.name: "وزارة الداخلية" for f in service.fields.all()},
            delivery_mode="pickup",
            pickup_center=clerk.center,
        ),
    )
