"""Taking a fee in cash: numbered receipts, the `pay` transition, double submits, who may."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status
from baladiya.centers.models import Center
from baladiya.core.errors import DomainError, IllegalTransition, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.payments import services as pay
from baladiya.payments.models import CashierSession, PaymentMethod, Receipt

FEE = 5000


def _year() -> int:
    return timezone.localdate().year % 100


def test_cash_payment_issues_receipt_and_pays(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    receipt = pay.record_cash_payment(app, cashier)
    assert receipt.number == f"C03-R{_year():02d}-000001"
    assert receipt.amount == app.fee_amount == FEE
    assert receipt.method == PaymentMethod.CASH
    assert receipt.session == drawer
    assert receipt.business_date == drawer.business_date
    assert receipt.payer_name == "أحمد محمد الحمصي"
    assert receipt.issued_by == cashier
    app.refresh_from_db()
    assert app.status == Status.PAID
    assert app.events.filter(action="pay", actor=cashier).exists()
    event = AuditEvent.objects.get(action="payments.receipt_issued")
    assert event.actor == cashier.username
    assert event.data["number"] == receipt.number
    assert event.data["amount"] == FEE


def test_receipt_numbers_are_gap_free_even_after_a_rollback(
    cashier: User,
    drawer: CashierSession,
    make_app: Callable[..., Application],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, failing, third = make_app(), make_app(), make_app()
    assert pay.record_cash_payment(first, cashier).number.endswith("-000001")

    def broken_move(*args: object, **kwargs: object) -> None:
        raise DomainError("the link to the application failed")

    # The receipt row and its number are written, then the transition fails: all rolls back.
    monkeypatch.setattr(pay.applications, "move", broken_move)
    with pytest.raises(DomainError):
        pay.record_cash_payment(failing, cashier)
    monkeypatch.undo()
    assert Receipt.objects.count() == 1
    failing.refresh_from_db()
    assert failing.status == Status.SUBMITTED

    assert pay.record_cash_payment(failing, cashier).number.endswith("-000002")
    assert pay.record_cash_payment(third, cashier).number.endswith("-000003")
    numbers = sorted(Receipt.objects.values_list("number", flat=True))
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3]
    assert len(set(numbers)) == 3


def test_each_center_has_its_own_series(
    cashier: User,
    other_cashier: User,
    other_clerk: User,
    other_center: Center,
    drawer: CashierSession,
    make_app: Callable[..., Application],
) -> None:
    pay.open_session(other_cashier, 0)
    here = pay.record_cash_payment(make_app(), cashier)
    there = pay.record_cash_payment(make_app(at=other_center, by=other_clerk), other_cashier)
    assert here.number.startswith("C03-R") and here.number.endswith("-000001")
    assert there.number.startswith("C05-R") and there.number.endswith("-000001")


def test_double_submit_with_the_same_key_makes_one_receipt(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    first = pay.record_cash_payment(app, cashier, idempotency_key="form-1")
    again = pay.record_cash_payment(app, cashier, idempotency_key="form-1")
    assert again.pk == first.pk
    assert Receipt.objects.count() == 1


def test_paying_a_paid_application_again_is_refused_with_the_first_receipt(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    first = pay.record_cash_payment(app, cashier, idempotency_key="form-1")
    with pytest.raises(pay.AlreadyPaid) as err:
        pay.record_cash_payment(app, cashier, idempotency_key="form-2")
    assert err.value.receipt == first
    with pytest.raises(pay.AlreadyPaid):
        pay.record_cash_payment(app, cashier)
    assert Receipt.objects.count() == 1


def test_a_key_reused_for_another_application_is_refused(
    cashier: User, drawer: CashierSession, make_app: Callable[..., Application]
) -> None:
    pay.record_cash_payment(make_app(), cashier, idempotency_key="form-1")
    with pytest.raises(DomainError):
        pay.record_cash_payment(make_app(), cashier, idempotency_key="form-1")
    assert Receipt.objects.count() == 1


def test_a_cancelled_application_cannot_be_paid(
    cashier: User, clerk: User, drawer: CashierSession, app: Application
) -> None:
    apps.cancel(app, clerk, "طلب المواطن")
    with pytest.raises(IllegalTransition):
        pay.record_cash_payment(app, cashier)
    assert not Receipt.objects.exists()


def test_a_clerk_cannot_take_cash(clerk: User, app: Application) -> None:
    with pytest.raises(NotAllowed):
        pay.record_cash_payment(app, clerk)
    assert not Receipt.objects.exists()


def test_another_centers_cashier_cannot_take_payment(other_cashier: User, app: Application) -> None:
    pay.open_session(other_cashier, FEE)
    with pytest.raises(NotAllowed):
        pay.record_cash_payment(app, other_cashier)
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED
    assert not Receipt.objects.exists()


def test_no_open_session_is_a_clear_error(cashier: User, app: Application) -> None:
    with pytest.raises(pay.NoOpenSession) as err:
        pay.record_cash_payment(app, cashier)
    assert err.value.code == "no_open_session"
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED


def test_receipt_is_immutable(cashier: User, drawer: CashierSession, app: Application) -> None:
    receipt = pay.record_cash_payment(app, cashier)
    receipt.amount = 1
    with pytest.raises(ValueError, match="immutable"):
        receipt.save()
    assert Receipt.objects.get(pk=receipt.pk).amount == FEE


def test_gateway_payment_is_idempotent_on_its_reference(app: Application) -> None:
    receipt = pay.record_gateway_payment(app, FEE, "SEP-2026-000981")
    replay = pay.record_gateway_payment(app, FEE, "SEP-2026-000981")
    assert replay.pk == receipt.pk
    assert receipt.method == PaymentMethod.GATEWAY
    assert receipt.session is None
    assert receipt.issued_by is None
    assert receipt.number.startswith("C03-R")
    app.refresh_from_db()
    assert app.status == Status.PAID
    assert app.events.get(action="pay").actor_name == "system"


def test_gateway_amount_must_be_the_fee(app: Application) -> None:
    with pytest.raises(DomainError):
        pay.record_gateway_payment(app, FEE - 1, "SEP-1")
    assert not Receipt.objects.exists()


def test_gateway_then_cash_is_refused(
    cashier: User, drawer: CashierSession, app: Application
) -> None:
    pay.record_gateway_payment(app, FEE, "SEP-1")
    with pytest.raises(pay.AlreadyPaid):
        pay.record_cash_payment(app, cashier)
    assert Receipt.objects.count() == 1
