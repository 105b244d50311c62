"""A receipt is printed only after its commit (issue 4: power cuts lose nothing).

The cash desk posts the payment, `record_cash_payment` commits, and only then the browser is
sent to the receipt page, whose "print" link renders the PDF from the stored row. A payment
whose transaction fails at its last step (here: the audit write, as a full disk or a dying
disk would fail it) must leave no receipt, no number taken, and nothing to print.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.core import audit
from baladiya.core.ids import format_reference
from baladiya.core.models import Counter
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession, Receipt


def _first_number() -> str:
    return format_reference("C03", timezone.localdate().year, 1, "R")


@pytest.fixture
def failing_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receipt row, its number and the application's move are written; then the last
    write of the transaction fails."""
    record = audit.record

    def fail_on_receipt(action: str, **kwargs: Any) -> Any:
        if action == "payments.receipt_issued":
            raise OSError("disk I/O error")
        return record(action, **kwargs)

    monkeypatch.setattr(audit, "record", fail_on_receipt)


def _nothing_was_kept(app: Application) -> None:
    assert not Receipt.objects.exists()
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED
    taken = Counter.objects.filter(scope="C03", kind="R").values_list("value", flat=True).first()
    assert not taken  # the number was given back


def test_a_failed_payment_transaction_leaves_no_receipt(
    cashier: User, drawer: CashierSession, app: Application, failing_audit: None
) -> None:
    with pytest.raises(OSError):
        pay.record_cash_payment(app, cashier)
    _nothing_was_kept(app)
    assert pay.session_totals(drawer).cash_in == 0


def test_the_desk_prints_nothing_when_the_payment_did_not_commit(
    cashier: User, drawer: CashierSession, app: Application, failing_audit: None
) -> None:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cashier)
    response = client.post(
        reverse("payments:take_payment", args=[app.reference]), {"idempotency_key": "k-1"}
    )
    assert response.status_code == 500  # no redirect to a receipt page
    _nothing_was_kept(app)
    number = _first_number()
    assert client.get(reverse("payments:receipt", args=[number])).status_code == 404
    assert client.get(reverse("payments:receipt_pdf", args=[number])).status_code == 404


def test_the_receipt_page_comes_after_the_commit(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    """The working path, for contrast: the POST redirects to the page of a stored receipt,
    and its PDF is made from that row."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cashier)
    response = client.post(
        reverse("payments:take_payment", args=[app.reference]), {"idempotency_key": "k-2"}
    )
    number = _first_number()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:receipt", args=[number])
    assert Receipt.objects.get().number == number
    pdf = client.get(reverse("payments:receipt_pdf", args=[number]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
