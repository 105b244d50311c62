"""Cashier sessions: open with a float, close with the counted cash, over/short recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.centers.models import Center
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession
from baladiya.payments.tests.conftest import FLOAT

FEE = 5000  # the `service` fixture's fee: 50.00 pounds


def test_open_session_records_float_day_and_audit(cashier: User, center: Center) -> None:
    session = pay.open_session(cashier, FLOAT)
    assert session.center == center
    assert session.state == CashierSession.State.OPEN
    assert session.opening_float == FLOAT
    assert session.business_date == dt.date.fromisoformat(str(session.business_date))
    assert AuditEvent.objects.filter(action="payments.session_opened").count() == 1


def test_double_open_never_makes_a_second_drawer(cashier: User) -> None:
    first = pay.open_session(cashier, FLOAT)
    with pytest.raises(pay.SessionAlreadyOpen) as err:
        pay.open_session(cashier, FLOAT)
    assert err.value.session == first
    assert CashierSession.objects.filter(cashier=cashier).count() == 1


def test_only_cashiers_open_a_drawer(clerk: User, supervisor: User) -> None:
    for user in (clerk, supervisor):
        with pytest.raises(NotAllowed):
            pay.open_session(user, FLOAT)
    assert not CashierSession.objects.exists()


def test_cashier_without_center_cannot_open(make_user: Callable[..., User]) -> None:
    floating = make_user("nowhere", roles.CASHIER)
    with pytest.raises(NotAllowed):
        pay.open_session(floating, FLOAT)


def test_negative_float_refused(cashier: User) -> None:
    with pytest.raises(DomainError):
        pay.open_session(cashier, -1)


def _pay(app: Application, cashier: User) -> None:
    pay.record_cash_payment(app, cashier)


def test_close_exact(cashier: User, drawer: CashierSession, app: Application) -> None:
    _pay(app, cashier)
    closed = pay.close_session(drawer, cashier, FLOAT + FEE)
    assert closed.state == CashierSession.State.CLOSED
    assert closed.expected_cash == FLOAT + FEE
    assert closed.counted_cash == FLOAT + FEE
    assert closed.over_short == 0
    assert closed.closed_at is not None


def test_close_short(cashier: User, drawer: CashierSession, app: Application) -> None:
    _pay(app, cashier)
    closed = pay.close_session(drawer, cashier, FLOAT + FEE - 700)
    assert closed.over_short == -700


def test_close_over_after_a_refund(
    cashier: User,
    drawer: CashierSession,
    make_app: Callable[..., Application],
    reject: Callable[[Application], Application],
) -> None:
    first, second = make_app(), make_app()
    receipt = pay.record_cash_payment(first, cashier)
    pay.record_cash_payment(second, cashier)
    reject(first)
    pay.refund_receipt(receipt, cashier, "خطأ في الرسم", amount=1000)
    closed = pay.close_session(drawer, cashier, FLOAT + 2 * FEE - 1000 + 250)
    assert closed.expected_cash == FLOAT + 2 * FEE - 1000
    assert closed.over_short == 250
    event = AuditEvent.objects.get(action="payments.session_closed")
    assert event.data["over_short"] == 250
    assert event.actor == cashier.username


def test_closed_session_cannot_be_changed(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    pay.close_session(drawer, cashier, FLOAT)
    with pytest.raises(Conflict):
        pay.close_session(drawer, cashier, FLOAT + 100)
    stored = CashierSession.objects.get(pk=drawer.pk)
    assert stored.counted_cash == FLOAT
    stored.counted_cash = 1
    with pytest.raises(ValueError, match="immutable"):
        stored.save()
    # And no more cash goes into it: payments need an open drawer.
    with pytest.raises(pay.NoOpenSession):
        pay.record_cash_payment(app, cashier)


def test_negative_count_refused(cashier: User, drawer: CashierSession) -> None:
    with pytest.raises(DomainError):
        pay.close_session(drawer, cashier, -5)
    assert CashierSession.objects.get(pk=drawer.pk).state == CashierSession.State.OPEN


def test_supervisor_of_the_center_may_close_an_abandoned_drawer(
    supervisor: User, drawer: CashierSession
) -> None:
    closed = pay.close_session(drawer, supervisor, FLOAT)
    assert closed.state == CashierSession.State.CLOSED


def test_others_may_not_close_a_drawer(
    drawer: CashierSession,
    clerk: User,
    other_cashier: User,
    make_user: Callable[..., User],
    other_center: Center,
) -> None:
    other_supervisor = make_user("super05", roles.SUPERVISOR, center=other_center)
    for user in (clerk, other_cashier, other_supervisor):
        with pytest.raises(NotAllowed):
            pay.close_session(drawer, user, FLOAT)
    assert CashierSession.objects.get(pk=drawer.pk).state == CashierSession.State.OPEN


def test_yesterdays_open_drawer_takes_no_more_cash(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    CashierSession.objects.filter(pk=drawer.pk).update(
        business_date=drawer.business_date - dt.timedelta(days=1)
    )
    with pytest.raises(DomainError) as err:
        pay.record_cash_payment(app, cashier)
    assert err.value.code == "stale_session"
    # It can still be counted and closed, then a new one opened.
    pay.close_session(drawer, cashier, FLOAT)
    pay.open_session(cashier, FLOAT)
    assert pay.record_cash_payment(app, cashier).amount == FEE
