"""DESIGN §5 invariant 1: for every node and day,
receipts − refunds = cash counted + gateway settlements (over/short accounted)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError
from baladiya.payments import reports
from baladiya.payments import services as pay
from baladiya.payments.models import PaymentMethod, Receipt, Refund
from baladiya.payments.tests.gateway_helpers import sandbox_receipt

FEE = 5000


def _raw_net(center: Center) -> int:
    """Receipts − refunds straight from the rows, for cross-checking the report."""
    day = timezone.localdate()
    got = Receipt.objects.filter(center=center, business_date=day).aggregate(s=Sum("amount"))
    out = Refund.objects.filter(center=center, business_date=day).aggregate(s=Sum("amount"))
    return int(got["s"] or 0) - int(out["s"] or 0)


def _assert_invariant(center: Center) -> reports.Reconciliation:
    rec = reports.daily_reconciliation(center, timezone.localdate())
    closed = rec.closed_sessions
    counted_net = sum((s.counted or 0) - s.opening_float for s in closed)
    over_short = sum(s.over_short or 0 for s in closed)
    assert rec.net == _raw_net(center)
    assert rec.net == counted_net - over_short + rec.open_cash + rec.gateway_settlements
    assert rec.balanced, rec
    assert reports.money_balances(center, timezone.localdate())
    return rec


@pytest.fixture
def second_cashier(make_user: Callable[..., User], center: Center) -> User:
    return make_user("cashier03b", roles.CASHIER, center=center, full_name="لمى الأتاسي")


def test_a_day_with_several_cashiers_balances(
    cashier: User,
    second_cashier: User,
    other_cashier: User,
    other_clerk: User,
    other_center: Center,
    center: Center,
    make_app: Callable[..., Application],
    reject: Callable[[Application], Application],
) -> None:
    # Cashier A: float 500.00, three payments, a partial refund, counted 2.00 short.
    a = pay.open_session(cashier, 50_000)
    a_receipts = [pay.record_cash_payment(make_app(), cashier) for _ in range(3)]
    assert a_receipts[0].application is not None
    reject(a_receipts[0].application)
    pay.refund_receipt(a_receipts[0], cashier, "رسم زائد", amount=1_000)
    a_closed = pay.close_session(a, cashier, 50_000 + 3 * FEE - 1_000 - 200)
    assert a_closed.over_short == -200

    # Cashier B: float 300.00, two payments, one cancelled with a full refund, 1.00 over;
    # then a second drawer the same day that stays open with one payment.
    b = pay.open_session(second_cashier, 30_000)
    b_apps = [make_app(), make_app()]
    for app in b_apps:
        pay.record_cash_payment(app, second_cashier)
    pay.cancel_with_refund(b_apps[1], second_cashier, "طلب المواطن الإلغاء")
    b_closed = pay.close_session(b, second_cashier, 30_000 + FEE + 100)
    assert b_closed.over_short == 100
    pay.open_session(second_cashier, 10_000)
    pay.record_cash_payment(make_app(), second_cashier)

    # One online payment for an application of this center, partly refunded by the gateway.
    online = sandbox_receipt(make_app())
    assert online.application is not None
    reject(online.application)
    pay.refund_receipt(online, cashier, "خصم", amount=500)

    # Another center's day must not leak into this one.
    pay.open_session(other_cashier, 0)
    pay.record_cash_payment(make_app(at=other_center, by=other_clerk), other_cashier)

    rec = _assert_invariant(center)
    assert rec.receipts_count == 7
    assert rec.receipts_total == 7 * FEE
    assert rec.refunds_total == 1_000 + FEE + 500
    assert rec.counted_net == (3 * FEE - 1_000 - 200) + (FEE + 100)
    assert rec.over_short == -100
    assert rec.open_cash == FEE
    assert rec.gateway_settlements == FEE - 500
    assert rec.difference == 0
    assert [s.cashier_name for s in rec.sessions] == ["ريم العلي", "لمى الأتاسي", "لمى الأتاسي"]
    assert sum(bar.count for bar in rec.by_hour) == 7
    other = _assert_invariant(other_center)
    assert other.receipts_total == FEE and other.open_cash == FEE


def test_cash_outside_a_drawer_breaks_the_balance(
    cashier: User, center: Center, app: Application
) -> None:
    session = pay.open_session(cashier, 0)
    pay.record_cash_payment(app, cashier)
    assert reports.money_balances(center, timezone.localdate())
    # A receipt written around the services (no drawer) is money nobody counted.
    now = timezone.now()
    Receipt.objects.create(
        number="C03-R99-999999",
        center=center,
        method=PaymentMethod.CASH,
        amount=700,
        payer_name="x",
        description="x",
        issued_at=now,
        business_date=timezone.localdate(now),
    )
    rec = reports.daily_reconciliation(center, timezone.localdate())
    assert not rec.balanced
    assert rec.difference == 700
    pay.close_session(session, cashier, FEE)
    assert not reports.money_balances(center, timezone.localdate())


def test_cash_slipped_into_a_closed_drawer_is_flagged(
    cashier: User, center: Center, app: Application
) -> None:
    session = pay.open_session(cashier, 0)
    pay.close_session(session, cashier, 0)
    now = timezone.now()
    Receipt.objects.create(
        number="C03-R99-999998",
        center=center,
        session=session,
        method=PaymentMethod.CASH,
        amount=900,
        payer_name="x",
        description="x",
        issued_at=now,
        business_date=session.business_date,
    )
    rec = reports.daily_reconciliation(center, timezone.localdate())
    assert not rec.sessions[0].consistent
    assert not rec.balanced


# ------------------------------------------------------------ property: any sequence balances

OPS = (  # weighted
    "open", "pay", "pay", "gateway", "reject", "refund", "refund", "refund", "cancel", "close",
)  # fmt: skip
operation = st.tuples(
    st.sampled_from(OPS),
    st.integers(min_value=0, max_value=2),  # which cashier acts
    st.integers(min_value=0, max_value=60_000),  # an amount / a counting error
    st.integers(min_value=0, max_value=50),  # which receipt
)


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=4, max_size=16))
def test_any_sequence_of_operations_balances(
    ops: list[tuple[str, int, int, int]],
    cashier: User,
    second_cashier: User,
    other_cashier: User,
    other_clerk: User,
    center: Center,
    other_center: Center,
    make_app: Callable[..., Application],
    reject: Callable[[Application], Application],
) -> None:
    cashiers = [cashier, second_cashier, other_cashier]
    with transaction.atomic():
        for actor in cashiers:  # the day starts with every drawer open
            pay.open_session(actor, 20_000)
        receipts: list[Receipt] = []
        for op, who, value, pick in ops:
            actor = cashiers[who]
            at_home = actor.center_id == center.pk
            try:
                if op == "open":
                    pay.open_session(actor, value)
                elif op == "pay":
                    app = make_app() if at_home else make_app(at=other_center, by=other_clerk)
                    receipts.append(pay.record_cash_payment(app, actor))
                elif op == "gateway":
                    app = make_app() if at_home else make_app(at=other_center, by=other_clerk)
                    receipts.append(sandbox_receipt(app))
                elif op == "reject" and receipts:
                    receipt = receipts[pick % len(receipts)]
                    assert receipt.application is not None
                    reject(receipt.application)
                elif op == "refund" and receipts:
                    receipt = receipts[pick % len(receipts)]
                    amount = value % (receipt.amount + 1)
                    pay.refund_receipt(receipt, actor, "سبب", amount or None)
                elif op == "cancel" and receipts:
                    receipt = receipts[pick % len(receipts)]
                    assert receipt.application is not None
                    pay.cancel_with_refund(receipt.application, actor, "سبب")
                elif op == "close":
                    session = pay.current_session(actor)
                    if session is not None:
                        expected = pay.session_totals(session).expected
                        pay.close_session(session, actor, max(0, expected + value % 1001 - 500))
            except DomainError:
                pass  # refused operations must leave the books balanced too
        target(float(len(receipts)), label="receipts")
        refunds = Refund.objects.count()
        event("refunds: 3 or more" if refunds >= 3 else f"refunds: {refunds}")
        _assert_invariant(center)
        _assert_invariant(other_center)
        transaction.set_rollback(True)
