"""Refunds are reversing entries: numbered, reasoned, never more than what was paid."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession, PaymentMethod, Receipt, Refund
from baladiya.payments.tests.gateway_helpers import sandbox_receipt

FEE = 5000


@pytest.fixture
def receipt(
    cashier: User,
    drawer: CashierSession,
    app: Application,
    reject: Callable[[Application], Application],
) -> Receipt:
    paid = pay.record_cash_payment(app, cashier)
    reject(app)
    return paid


@pytest.fixture
def paid_receipt(cashier: User, drawer: CashierSession, app: Application) -> Receipt:
    """Paid, application still in progress."""
    return pay.record_cash_payment(app, cashier)


def test_an_application_in_progress_is_refunded_only_by_cancelling_it(
    cashier: User, paid_receipt: Receipt, app: Application
) -> None:
    with pytest.raises(DomainError) as refused:
        pay.refund_receipt(paid_receipt, cashier, "رسم زائد", amount=1000)
    assert refused.value.code == "not_refundable"
    assert not Refund.objects.exists()
    pay.cancel_with_refund(app, cashier, "طلب المواطن الإلغاء")
    assert pay.refunded_amount(paid_receipt) == FEE


def test_partial_then_rest(cashier: User, receipt: Receipt, drawer: CashierSession) -> None:
    first = pay.refund_receipt(receipt, cashier, "رسم زائد", amount=1500)
    rest = pay.refund_receipt(receipt, cashier, "إلغاء")
    year = timezone.localdate().year % 100
    assert first.number == f"C03-F{year:02d}-000001"
    assert rest.number == f"C03-F{year:02d}-000002"
    assert (first.amount, rest.amount) == (1500, FEE - 1500)
    assert first.session == drawer and first.method == PaymentMethod.CASH
    assert pay.refunded_amount(receipt) == FEE
    assert AuditEvent.objects.filter(action="payments.refunded").count() == 2


def test_refund_more_than_paid_is_refused(cashier: User, receipt: Receipt) -> None:
    with pytest.raises(DomainError):
        pay.refund_receipt(receipt, cashier, "خطأ", amount=FEE + 1)
    pay.refund_receipt(receipt, cashier, "خطأ", amount=FEE - 100)
    with pytest.raises(DomainError):
        pay.refund_receipt(receipt, cashier, "خطأ", amount=101)
    pay.refund_receipt(receipt, cashier, "خطأ")
    with pytest.raises(DomainError):
        pay.refund_receipt(receipt, cashier, "خطأ")
    assert pay.refunded_amount(receipt) == FEE


def test_zero_or_negative_refund_is_refused(cashier: User, receipt: Receipt) -> None:
    for amount in (0, -100):
        with pytest.raises(DomainError):
            pay.refund_receipt(receipt, cashier, "خطأ", amount=amount)
    assert not Refund.objects.exists()


def test_reason_is_required(cashier: User, receipt: Receipt) -> None:
    with pytest.raises(DomainError):
        pay.refund_receipt(receipt, cashier, "   ")
    assert not Refund.objects.exists()


def test_refund_double_submit_with_same_key(cashier: User, receipt: Receipt) -> None:
    one = pay.refund_receipt(receipt, cashier, "خطأ", amount=100, idempotency_key="r-1")
    two = pay.refund_receipt(receipt, cashier, "خطأ", amount=100, idempotency_key="r-1")
    assert one.pk == two.pk
    assert Refund.objects.count() == 1


def test_cash_refund_needs_an_open_drawer(
    cashier: User, receipt: Receipt, drawer: CashierSession
) -> None:
    pay.close_session(drawer, cashier, 0)
    with pytest.raises(pay.NoOpenSession):
        pay.refund_receipt(receipt, cashier, "خطأ")
    # A new drawer (say, the next morning) pays it back.
    later = pay.open_session(cashier, 0)
    refund = pay.refund_receipt(receipt, cashier, "خطأ")
    assert refund.session == later


def test_only_the_centers_cashier_refunds_cash(
    receipt: Receipt,
    clerk: User,
    supervisor: User,
    other_cashier: User,
) -> None:
    pay.open_session(other_cashier, 0)
    for user in (clerk, supervisor, other_cashier):
        with pytest.raises(NotAllowed):
            pay.refund_receipt(receipt, user, "خطأ")
    assert not Refund.objects.exists()


def test_refund_is_immutable(cashier: User, receipt: Receipt) -> None:
    refund = pay.refund_receipt(receipt, cashier, "خطأ", amount=100)
    refund.amount = 5
    with pytest.raises(ValueError, match="immutable"):
        refund.save()


def test_cancel_with_refund(cashier: User, paid_receipt: Receipt, app: Application) -> None:
    receipt = paid_receipt
    refund = pay.cancel_with_refund(app, cashier, "طلب المواطن الإلغاء")
    assert refund.amount == FEE
    assert refund.receipt == receipt
    app.refresh_from_db()
    assert app.status == Status.CANCELLED
    assert app.events.filter(action="cancel_with_refund").exists()
    # A second attempt is an illegal transition and refunds nothing more.
    with pytest.raises(IllegalTransition):
        pay.cancel_with_refund(app, cashier, "مرة أخرى")
    assert Refund.objects.count() == 1


def test_cancel_with_refund_is_all_or_nothing(
    cashier: User, paid_receipt: Receipt, app: Application, drawer: CashierSession
) -> None:
    pay.close_session(drawer, cashier, FEE)
    with pytest.raises(pay.NoOpenSession):
        pay.cancel_with_refund(app, cashier, "طلب المواطن الإلغاء")
    app.refresh_from_db()
    assert app.status == Status.PAID
    assert not Refund.objects.exists()


def test_unpaid_application_cannot_be_cancelled_with_refund(
    cashier: User, drawer: CashierSession, make_app: Callable[..., Application]
) -> None:
    unpaid = make_app()
    with pytest.raises(IllegalTransition):
        pay.cancel_with_refund(unpaid, cashier, "خطأ")


def test_gateway_refund_by_supervisor_goes_back_through_the_gateway(
    app: Application, supervisor: User, make_user: Callable[..., User], other_center: Center
) -> None:
    receipt = sandbox_receipt(app)
    other_supervisor = make_user("super05", roles.SUPERVISOR, center=other_center)
    with pytest.raises(NotAllowed):
        pay.refund_receipt(receipt, other_supervisor, "خطأ")
    refund = pay.cancel_with_refund(app, supervisor, "تعذر تقديم الخدمة")
    assert refund.method == PaymentMethod.GATEWAY
    assert refund.session is None
    app.refresh_from_db()
    assert app.status == Status.CANCELLED


def test_the_payer_is_told_of_a_refund_by_sms(cashier: User, receipt: Receipt) -> None:
    from baladiya.notifications.models import OutboxMessage

    refund = pay.refund_receipt(receipt, cashier, "رفض الطلب")
    assert receipt.application is not None
    sms = OutboxMessage.objects.get(dedupe_key=f"refund:{refund.pk}")
    assert sms.recipient == receipt.application.applicant.phone
    assert receipt.number in sms.body and "50.00" in sms.body
