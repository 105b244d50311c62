"""The cash desk as a cashier, a supervisor, an auditor and a clerk see it (no JavaScript)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center
from baladiya.core.testing import logged_in
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession, Receipt, Refund
from baladiya.payments.tests.conftest import FLOAT

FEE = 5000


_client = logged_in


def _token(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, "the form carries a one-time token"
    return match.group(1)


def test_desk_without_session_offers_to_open_one(cashier: User, app: Application) -> None:
    response = _client(cashier).get(reverse("payments:cashier"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="opening_float"' in html and "autofocus" in html
    assert app.reference in html  # awaiting payment


def test_awaiting_payment_shows_the_day_of_what_has_waited_since_an_earlier_day(
    cashier: User, make_app: Callable[..., Application]
) -> None:
    today = timezone.localdate()
    earlier = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=5), dt.time(9, 44)))
    with time_machine.travel(earlier, tick=False):
        old = make_app()
    new = make_app()
    html = _client(cashier).get(reverse("payments:cashier")).content.decode()
    row = re.search(rf"{old.reference}.*?</tr>", html, re.S)
    assert row and f"{(today - dt.timedelta(days=5)).isoformat()} 09:44" in row.group(0)
    row = re.search(rf"{new.reference}.*?</tr>", html, re.S)
    stamp = timezone.localtime(new.created_at).strftime("%H:%M")
    assert row and f'<bdi dir="ltr">{stamp}</bdi>' in row.group(0)  # today: the time alone
    assert today.isoformat() not in row.group(0)


def test_open_session_form(cashier: User) -> None:
    client = _client(cashier)
    response = client.post(reverse("payments:open_session"), {"opening_float": "500"})
    assert response.status_code == 302
    assert CashierSession.objects.get(cashier=cashier).opening_float == FLOAT
    # A double-click posts again: still one drawer, a clear message, no error page.
    again = client.post(reverse("payments:open_session"), {"opening_float": "500"}, follow=True)
    assert again.status_code == 200
    assert "already have an open cash session" in again.content.decode()
    assert CashierSession.objects.filter(cashier=cashier).count() == 1


def test_open_session_rejects_bad_amount(cashier: User) -> None:
    response = _client(cashier).post(reverse("payments:open_session"), {"opening_float": "5e3"})
    assert response.status_code == 400
    assert "Enter an amount in pounds" in response.content.decode()
    assert not CashierSession.objects.exists()


def test_search_by_reference_goes_to_the_confirm_page(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    response = _client(cashier).get(reverse("payments:cashier"), {"q": app.reference.lower()})
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:take_payment", args=[app.reference])


def test_take_payment_confirm_then_receipt(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    client = _client(cashier)
    url = reverse("payments:take_payment", args=[app.reference])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "50.00" in html and app.applicant.full_name in html
    assert re.search(r"<button[^>]*autofocus", html)
    token = _token(html)

    done = client.post(url, {"idempotency_key": token})
    receipt = Receipt.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("payments:receipt", args=[receipt.number])
    # The same form posted twice (double click, reload): one receipt, same page.
    twice = client.post(url, {"idempotency_key": token})
    assert twice["Location"] == done["Location"]
    assert Receipt.objects.count() == 1
    app.refresh_from_db()
    assert app.status == Status.PAID

    shown = client.get(done["Location"])
    assert receipt.number in shown.content.decode()
    assert reverse("payments:receipt_pdf", args=[receipt.number]) in shown.content.decode()


def test_take_payment_without_session_explains(cashier: User, app: Application) -> None:
    client = _client(cashier)
    url = reverse("payments:take_payment", args=[app.reference])
    assert "Open your cash session" in client.get(url).content.decode()
    response = client.post(url, {"idempotency_key": "x"})
    assert response.status_code == 400
    assert "Open your cash session" in response.content.decode()
    assert not Receipt.objects.exists()


def test_clerk_cannot_use_the_cash_desk(clerk: User, app: Application) -> None:
    client = _client(clerk)
    assert client.get(reverse("payments:cashier")).status_code == 403
    url = reverse("payments:take_payment", args=[app.reference])
    assert client.post(url, {"idempotency_key": "x"}).status_code == 403
    assert not Receipt.objects.exists()


def test_other_centers_cashier_cannot_open_the_confirm_page(
    other_cashier: User, app: Application
) -> None:
    pay.open_session(other_cashier, 0)
    client = _client(other_cashier)
    url = reverse("payments:take_payment", args=[app.reference])
    assert client.get(url).status_code == 403
    assert client.post(url, {"idempotency_key": "x"}).status_code == 403
    assert not Receipt.objects.exists()


def test_receipt_pdf_view(cashier: User, drawer: CashierSession, app: Application) -> None:
    receipt = pay.record_cash_payment(app, cashier)
    response = _client(cashier).get(reverse("payments:receipt_pdf", args=[receipt.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_receipt_of_another_center_is_hidden(
    cashier: User, drawer: CashierSession, app: Application, other_cashier: User
) -> None:
    receipt = pay.record_cash_payment(app, cashier)
    client = _client(other_cashier)
    assert client.get(reverse("payments:receipt", args=[receipt.number])).status_code == 403
    assert client.get(reverse("payments:receipt_pdf", args=[receipt.number])).status_code == 403


def test_refund_form_and_cancel(cashier: User, drawer: CashierSession, app: Application) -> None:
    receipt = pay.record_cash_payment(app, cashier)
    client = _client(cashier)
    page = client.get(reverse("payments:receipt", args=[receipt.number])).content.decode()
    assert 'name="reason"' in page and 'name="cancel_application"' in page
    url = reverse("payments:refund", args=[receipt.number])

    no_reason = client.post(url, {"reason": "", "idempotency_key": _token(page)}, follow=True)
    assert "This field is required" in no_reason.content.decode()
    too_much = client.post(url, {"reason": "خطأ", "amount": "51", "idempotency_key": "t1"})
    assert too_much.status_code == 302
    assert not Refund.objects.exists()

    # The application is still in progress: money back only by cancelling it.
    in_progress = client.post(
        url, {"reason": "رسم زائد", "amount": "10", "idempotency_key": "t2"}, follow=True
    )
    assert "cancel it with a refund" in in_progress.content.decode()
    assert not Refund.objects.exists()

    client.post(url, {"reason": "طلب الإلغاء", "cancel_application": "on", "idempotency_key": "t3"})
    client.post(url, {"reason": "طلب الإلغاء", "cancel_application": "on", "idempotency_key": "t3"})
    app.refresh_from_db()
    assert app.status == Status.CANCELLED
    assert list(Refund.objects.values_list("amount", flat=True)) == [FEE]


def test_close_session_view_shows_expected_and_records_short(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    pay.record_cash_payment(app, cashier)
    client = _client(cashier)
    page = client.get(reverse("payments:close_session")).content.decode()
    assert "550.00" in page  # float 500 + fee 50
    done = client.post(reverse("payments:close_session"), {"counted_cash": "549"}, follow=True)
    assert "short by 1.00" in done.content.decode()
    drawer.refresh_from_db()
    assert drawer.over_short == -100
    # Posting again finds no open drawer: nothing changes.
    client.post(reverse("payments:close_session"), {"counted_cash": "1"})
    drawer.refresh_from_db()
    assert drawer.counted_cash == FLOAT + FEE - 100


def test_reconciliation_for_supervisor(
    supervisor: User, cashier: User, drawer: CashierSession, app: Application, center: Center
) -> None:
    pay.record_cash_payment(app, cashier)
    response = _client(supervisor).get(
        reverse("payments:reconciliation"),
        {"center": "C03", "date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Balanced" in html
    assert "<svg" in html and 'class="bar"' in html
    assert "ريم العلي" in html
    # The supervisor's own center is the default.
    assert _client(supervisor).get(reverse("payments:reconciliation")).status_code == 200


@pytest.mark.parametrize("who", ["clerk", "cashier"])
def test_reconciliation_forbidden_to_counter_staff(
    who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    assert _client(user).get(reverse("payments:reconciliation")).status_code == 403


def test_supervisor_cannot_see_another_center(supervisor: User, other_center: Center) -> None:
    response = _client(supervisor).get(reverse("payments:reconciliation"), {"center": "C05"})
    assert response.status_code == 403


def test_auditor_sees_all_centers(
    auditor: User, center: Center, other_center: Center, make_user: Callable[..., User]
) -> None:
    response = _client(auditor).get(reverse("payments:reconciliation"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "All centers" in html and "C03" in html and "C05" in html
    assert (
        _client(auditor).get(reverse("payments:reconciliation"), {"center": "C05"}).status_code
        == 200
    )


def test_supervisor_closes_an_abandoned_drawer_from_the_report(
    supervisor: User, drawer: CashierSession
) -> None:
    client = _client(supervisor)
    report = client.get(reverse("payments:reconciliation"), {"center": "C03"}).content.decode()
    assert f"?session={drawer.pk}" in report
    response = client.post(
        reverse("payments:close_session"), {"session": str(drawer.pk), "counted_cash": "500"}
    )
    assert response.status_code == 302
    drawer.refresh_from_db()
    assert drawer.state == CashierSession.State.CLOSED and drawer.over_short == 0
