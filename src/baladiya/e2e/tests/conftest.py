"""Browser tests: real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Fixtures: `browser` (one per test session / xdist worker), `page` (an Arabic page on the live
server), `new_page(locale=...)` (one more browser context: a second person at another desk).
Every page fails its test if the server answers any request with a 5xx.
`ready_document`: a document issued for pickup at C03 (set up through the services).
Helpers: `login(page, username)`, `arabic(msgid)` (the compiled Arabic translation, so tests
survive the translators' edits), `pdf_text`, `read_qr`, `open_pdf`.

The electronic center (issue 3): `electronic_center` (C00), `civil_officer` (the back office of
the agency owning the `service` fixture), `outside_world` (the outbox really sends: SMS to the
sandbox operator, payment webhooks and postal callbacks over HTTP to the live server), and the
citizen's steps `sign_up`, `pay_online`, the officer's `review_and_issue`.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import translation

from baladiya.conftest import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

    from baladiya.accounts.models import Citizen, User
    from baladiya.catalog.models import Agency, Service
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


def open_pdf(page: Page, link: Any) -> bytes:
    """Click a link to a PDF: the browser opens it in its viewer (served inline, to print).
    Return the bytes the viewer's "save" gives (same URL, same session cookies)."""
    href = link.get_attribute("href")
    with page.expect_response(lambda r: r.url.endswith(href)) as info:
        link.click()
    response = info.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "inline" in response.headers["content-disposition"]
    saved = page.request.get(response.url)
    assert saved.ok
    page.go_back()
    return saved.body()


# ---------------------------------------------------------------- the electronic center


@pytest.fixture
def civil_officer(make_user: Callable[..., User], agency: Agency) -> User:
    """The back office of the agency that owns the `service` fixture."""
    from baladiya.accounts import roles

    return make_user("officer.civil", roles.OFFICER, agency=agency, full_name="لمى الأتاسي")


@pytest.fixture
def outside_world(settings: Any, live_server: Any) -> str:
    """The outbox pump (`deliver_due`, run by the test where the real pump would run) sends
    SMS to the sandbox operator (`SandboxSms`, the citizens' phones) and webhooks over HTTP:
    the sandbox gateway's and the sandbox post's notifications reach the live server's
    endpoints, signed, as the real ones would. Returns the live server's URL."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.WEBHOOK_TRANSPORT = "baladiya.notifications.senders.post_webhook"
    settings.SMS_SENDER = "baladiya.notifications.senders.SandboxSmsSender"
    settings.SMS_SANDBOX_FAILURE_RATE = 0.0
    settings.SMS_SANDBOX_DOWN_NUMBERS = []
    settings.POSTAL_SERVICE = "baladiya.delivery.post.sandbox.SandboxPostalService"
    settings.POST_CALLBACK_URL = ""
    settings.SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS = 0
    return str(live_server.url)


def pump_outbox() -> int:
    """One pass of the outbox pump; fails the test if anything could not be delivered."""
    from baladiya.notifications.services import deliver_due

    tally = deliver_due()
    assert tally.retried == 0 and tally.dead == 0, tally
    return tally.sent


def sms_received(phone: str) -> list[str]:
    """Run the outbox pump, then read what the phone received (newest first)."""
    from baladiya.notifications.models import SandboxSms

    pump_outbox()
    return [sms.text for sms in SandboxSms.objects.filter(phone=phone).order_by("-created_at")]


def sign_up(
    page: Page,
    *,
    typed_phone: str,
    phone: str,
    national_number: str,
    first_name: str,
    last_name: str,
) -> None:
    """From the portal's menu: the mobile as the citizen types it (`phone` is what it means
    in E.164), the code from the SMS as the phone received it, then the profile."""
    page.locator(".main-nav").get_by_role("link", name=arabic("Log in or sign up")).click()
    page.locator("#id_phone").fill(typed_phone)
    page.locator("#id_phone").press("Enter")
    page.wait_for_url(re.compile(r"/e/login/code/$"))
    assert phone in page.locator("main").inner_text()
    code = re.search(r"(?<![0-9])([0-9]{6})(?![0-9])", sms_received(phone)[0])
    assert code, "no code in the SMS"
    page.locator("#id_code").fill(code.group(1))
    page.locator("#id_code").press("Enter")
    page.wait_for_url(re.compile(r"/e/profile/"))
    page.locator("#id_national_number").fill(national_number)
    page.locator("#id_first_name").fill(first_name)
    page.locator("#id_last_name").fill(last_name)
    page.get_by_role("button", name=arabic("Save")).click()
    page.wait_for_url(re.compile(r"/e/services/$"))
    return phone


def pay_online(page: Page, reference: str) -> None:
    """On the citizen's application page: pay online at the sandbox gateway's hosted page.

    The gateway's signed webhook goes through the outbox. Here the outbox pump delivers it
    to the live server while the gateway's answer (its redirect back to us) is held, so the
    webhook arrives before the browser returns, as it often does: the webhook records the
    payment, not the return page asking the gateway."""
    from baladiya.payments.models import GatewayWebhook

    def webhook_first(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)  # the gateway takes the payment ...
        sent.append(pump_outbox())  # ... its webhook reaches us ...
        route.fulfill(response=answer)  # ... then the browser is sent back

    sent: list[int] = []
    hosted_page = re.compile(r"/payments/sandbox/pay/")
    page.route(hosted_page, webhook_first)
    page.locator("#pay").get_by_role("button", name=arabic("Pay online")).click()
    page.get_by_role("button", name=arabic("Pay successfully")).click()
    page.locator("#payment-status").wait_for()
    page.unroute(hosted_page)
    assert sent and sent[0] >= 1, "the webhook was not delivered"
    webhook = GatewayWebhook.objects.get(intent__application__reference=reference)
    assert webhook.outcome == "recorded", webhook.outcome
    assert arabic("Payment received. Thank you.") in page.locator("#payment-status").inner_text()
    page.get_by_role("link", name=arabic("Back to the application")).click()
    page.wait_for_url(re.compile(rf"/e/applications/{reference}/$"))


def review_and_issue(page: Page, reference: str) -> None:
    """The back office (an officer, logged in on `page`): from its queue, review, approve and
    issue the document of an online application."""
    page.locator(".main-nav").get_by_role("link", name=arabic("Back office")).click()
    row = page.locator("tbody tr", has_text=reference)
    row.get_by_role("button", name=arabic("Start review")).click()
    page.wait_for_url(re.compile(rf"/applications/{reference}/$"))
    page.get_by_role("button", name=arabic("Approve"), exact=True).click()
    page.locator("h1 .status.status-approved").wait_for()
    page.get_by_role("button", name=arabic("Issue document")).click()
    page.locator(".messages").wait_for()
