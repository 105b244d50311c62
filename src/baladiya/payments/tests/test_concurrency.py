"""Two clicks at the same instant (two workers) still make one drawer and one receipt.

Real parallel transactions need a server database: on SQLite (in-memory test database, one
writer at a time by design) these are skipped; the row locks they exercise are PostgreSQL's.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.core.errors import DomainError
from baladiya.core.testing import race
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession, Receipt

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="parallel writers need PostgreSQL"
    ),
]


def test_parallel_open_makes_one_drawer(cashier: User) -> None:
    results, errors = race(lambda: pay.open_session(cashier, 10_000))
    assert CashierSession.objects.filter(cashier=cashier).count() == 1
    assert len(results) == 1
    assert all(isinstance(e, pay.SessionAlreadyOpen) for e in errors), errors


def test_parallel_payment_makes_one_receipt(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    results, errors = race(lambda: pay.record_cash_payment(app, cashier))
    assert Receipt.objects.count() == 1
    assert len(results) == 1
    assert all(isinstance(e, DomainError) for e in errors), errors


def test_parallel_same_key_returns_the_same_receipt(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    results, errors = race(lambda: pay.record_cash_payment(app, cashier, "double-click"))
    assert not errors, errors
    assert Receipt.objects.count() == 1
    assert {r.pk for r in results} == {Receipt.objects.get().pk}


def test_parallel_refunds_never_exceed_the_receipt(
    cashier: User,
    drawer: CashierSession,
    app: Application,
    reject: Callable[[Application], Application],
) -> None:
    receipt = pay.record_cash_payment(app, cashier)
    reject(app)
    results, errors = race(lambda: pay.refund_receipt(receipt, cashier, "خطأ", amount=2000))
    assert len(results) == 2  # 2 × 20.00 fit in 50.00, a third would not
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert pay.refunded_amount(receipt) == 4000
