"""The printed receipt: an A6 Arabic PDF whose text reads back the number and the amount."""

from __future__ import annotations

import io
from collections.abc import Callable

import pypdf
import pypdfium2
import pytest

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.core.testing import pdf_line_as_seen
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession, Receipt


@pytest.fixture
def receipt(cashier: User, drawer: CashierSession, app: Application) -> Receipt:
    return pay.record_cash_payment(app, cashier)


@pytest.fixture
def rejected_receipt(receipt: Receipt, reject: Callable[[Application], Application]) -> Receipt:
    assert receipt.application is not None
    reject(receipt.application)
    return receipt


def _text(pdf: bytes) -> tuple[str, pypdf.PageObject]:
    """pypdf reads the LTR runs (numbers) in order; Arabic words come out reversed."""
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return page.extract_text(), page


def _arabic_text(pdf: bytes) -> str:
    """pdfium reads the shaped Arabic back in logical order."""
    doc = pypdfium2.PdfDocument(pdf)
    try:
        page = doc[0]
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        textpage.close()
        page.close()
        return str(text)
    finally:
        doc.close()


def test_receipt_pdf_reads_back(receipt: Receipt, app: Application) -> None:
    pdf = pay.receipt_pdf(receipt)
    assert pdf.startswith(b"%PDF")
    text, page = _text(pdf)
    assert receipt.number in text  # LTR-isolated, so it reads in order
    assert app.reference in text
    assert "50.00" in text
    arabic = _arabic_text(pdf)
    for words in ("مجلس مدينة حمص", "إيصال قبض", "ليرة سورية", "أحمد محمد الحمصي", "ريم العلي"):
        assert words in arabic
    # A6 portrait: 105 × 148 mm.
    width_mm = float(page.mediabox.width) / 72 * 25.4
    height_mm = float(page.mediabox.height) / 72 * 25.4
    assert round(width_mm) == 105 and round(height_mm) == 148


def test_receipt_pdf_lists_refunds(cashier: User, rejected_receipt: Receipt) -> None:
    receipt = rejected_receipt
    refund = pay.refund_receipt(receipt, cashier, "رسم زائد", amount=1250)
    text, _ = _text(pay.receipt_pdf(receipt))
    assert refund.number in text
    assert "12.50" in text
    assert "37.50" in text  # what is left


def test_receipt_data_is_local_time_and_formatted(receipt: Receipt) -> None:
    data = pay.receipt_data(receipt)
    assert data["amount"] == "50.00"
    assert data["cashier"] == "ريم العلي"
    assert data["center_code"] == "C03"
    from django.utils import timezone

    assert data["issued_at"] == timezone.localtime(receipt.issued_at).strftime("%Y-%m-%d %H:%M")


def test_numbers_inside_arabic_text_read_the_right_way(
    cashier: User, drawer: CashierSession
) -> None:
    """What a water receipt was for, "فواتير مياه 2026-01، 2026-02 …": each billing cycle is
    printed 2026-01, not 01-2026 (Typst's bidi split the number at its hyphen)."""
    assert cashier.center is not None
    receipt = pay.take_cash(
        cashier,
        cashier.center,
        30000,
        "سامي الحمصي",
        "فواتير مياه 2026-01، 2026-02، العداد HMS-0042117",
    )
    seen = pdf_line_as_seen(pay.receipt_pdf(receipt), "مياه")
    assert "2026-01" in seen and "2026-02" in seen, seen
    assert "01-2026" not in seen and "02-2026" not in seen, seen
