"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Fixtures: `browser` (one per test session / xdist worker), `page` (an Arabic page on the live
server), `new_page(locale=...)` (one more browser context: a second person at another desk).
Every page fails its test if the server answers any request with a 5xx.
`ready_document`: a document issued for pickup at C03 (set up through the services).
Helpers: `login(page, username)`, `arabic(msgid)` (the compiled Arabic translation, so tests
survive the translators' edits), `pdf_text`, `read_qr`.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import translation

from baladiya.conftest import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from baladiya.accounts.models import Citizen, User
    from baladiya.catalog.models import Service
    from baladiya.documents.models import IssuedDocument

CHROMIUM = os.environ.get("BALADIYA_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """`new_page(locale="ar")`: a fresh context (own cookies) whose relative URLs hit the
    live server. Server errors (5xx) seen by any of them fail the test at teardown."""
    contexts: list[Any] = []
    server_errors: list[str] = []

    def make(locale: str = "ar") -> Page:
        context = browser.new_context(
            locale=locale, accept_downloads=True, base_url=live_server.url
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on(
            "response",
            lambda r: server_errors.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert not server_errors, f"the server answered with an error: {server_errors}"


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """An Arabic-locale page (Django serves Arabic by Accept-Language)."""
    return new_page("ar")


@pytest.fixture
def ready_document(
    clerk: User, cashier: User, citizen: Citizen, service: Service, settings: Any, live_server: Any
) -> IssuedDocument:
    """Submitted, paid, approved and issued at C03, waiting there for pickup. Its QR code
    points at the live server."""
    from baladiya.applications import services as apps
    from baladiya.documents.services import issue_document

    settings.PUBLIC_BASE_URL = live_server.url
    assert clerk.center is not None
    app = apps.submit_application(
        clerk,
        apps.Submission(
            service=service,
            applicant=citizen,
            center=clerk.center,
            fields={"purpose": "جامعة البعث"},
            delivery_mode="pickup",
            pickup_center=clerk.center,
        ),
    )
    apps.move(app, "pay", cashier)
    apps.start_review(app, clerk)
    apps.approve(app, clerk)
    doc = issue_document(app, clerk)
    assert app.status == "ready_for_pickup"
    return doc


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the staff login form, by keyboard, and land on the role's home screen."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("#id_password").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def arabic(msgid: str) -> str:
    """What the Arabic UI shows for `msgid` (the catalog as compiled when the tests started)."""
    with translation.override("ar"):
        return str(translation.gettext(msgid))


def pdf_text(pdf: bytes) -> str:
    """pypdf reads LTR runs (numbers, references) in order; Arabic words may come reversed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def read_qr(pdf: bytes) -> str:
    """Render page 1 like a phone camera would see it and decode the QR code."""
    import pypdfium2 as pdfium
    import zxingcpp

    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found on the page"
    return str(found[0].text)
