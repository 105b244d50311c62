"""Cash at the counter: cashier sessions, receipts, refunds (reversals), receipt PDFs.

Every write here runs in one `transaction.atomic()`, checks the actor's role and center
(`accounts.permissions`) and appends an audit event. Money is integer piastres.

Rules that keep the day's money reconcilable (DESIGN §5 invariant 1, see `payments.reports`):
- a cash receipt or cash refund always belongs to the acting cashier's *open* session, at the
  session's center, and carries the session's business day; a drawer opened on an earlier day
  must be closed before it takes or pays out more cash;
- a closed session, a receipt and a refund are never edited; a correction is a refund;
- receipt (`C03-R26-000045`) and refund (`C03-F26-000002`) numbers come from
  `core.numbering` in the same transaction, so a rollback gives the number back (no gap).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.accounts.permissions import require_center, require_role
from baladiya.applications import services as applications
from baladiya.applications.models import Application
from baladiya.applications.workflow import Status, check_transition, transition
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.money import format_pounds
from baladiya.core.numbering import next_reference
from baladiya.core.queries import unique_or_none
from baladiya.notifications.services import notify_refund
from baladiya.payments.models import (
    CashierSession,
    IntentStatus,
    PaymentIntent,
    PaymentMethod,
    Receipt,
    Refund,
)

if TYPE_CHECKING:
    from baladiya.accounts.models import User
    from baladiya.centers.models import Center

RECEIPT_KIND = "R"
REFUND_KIND = "F"
MAX_KEY = 80


# ---------------------------------------------------------------- errors


class SessionAlreadyOpen(Conflict):
    """The cashier already has a drawer open: a second "open" never makes a second drawer."""

    code = "session_open"

    def __init__(self, session: CashierSession) -> None:
        super().__init__(
            _("You already have an open cash session (opened %(at)s). Close it first.")
            % {"at": _local(session.opened_at)}
        )
        self.session = session


class NoOpenSession(DomainError):
    code = "no_open_session"


class AlreadyPaid(Conflict):
    """The application was paid already: the existing receipt is attached."""

    code = "already_paid"

    def __init__(self, receipt: Receipt) -> None:
        super().__init__(
            _("This application is already paid (receipt %(number)s).") % {"number": receipt.number}
        )
        self.receipt = receipt


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _clean_key(key: str | None) -> str | None:
    text = (key or "").strip()
    if len(text) > MAX_KEY:
        raise DomainError(_("The form token is too long."))
    return text or None


# ---------------------------------------------------------------- who may do what


def _require_cashier_at(user: Any, center: Center) -> User:
    staff = require_role(user, roles.CASHIER)
    require_center(staff, center)
    return staff


def supervises(user: User, center_id: Any) -> bool:
    """Admins everywhere; a supervisor at their center, or everywhere without one."""
    if user.has_role(roles.ADMIN):
        return True
    return user.has_role(roles.SUPERVISOR) and user.center_id in (None, center_id)


def can_view_receipt(user: Any, receipt: Receipt) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(roles.ADMIN, roles.AUDITOR) or supervises(user, receipt.center_id):
        return True
    return bool(
        user.has_role(roles.CASHIER, roles.CLERK)
        and user.center_id is not None
        and user.center_id == receipt.center_id
    )


def require_view_receipt(user: Any, receipt: Receipt) -> None:
    if not can_view_receipt(user, receipt):
        raise NotAllowed(_("This receipt belongs to another center."))


def can_refund(user: Any, receipt: Receipt) -> bool:
    """Whether `user` may refund `receipt` at all (the open-session rule is checked on write)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    at_center = user.center_id is not None and user.center_id == receipt.center_id
    if receipt.method == PaymentMethod.CASH:
        return bool(user.has_role(roles.CASHIER) and at_center)
    return bool((user.has_role(roles.CASHIER) and at_center) or supervises(user, receipt.center_id))


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True)
class SessionTotals:
    opening_float: int
    cash_in: int
    cash_out: int

    @property
    def expected(self) -> int:
        return self.opening_float + self.cash_in - self.cash_out


def session_totals(session: CashierSession) -> SessionTotals:
    """The drawer's cash, computed from its receipts and refunds (never from stored totals)."""
    cash_in = session.receipts.filter(method=PaymentMethod.CASH).aggregate(s=Sum("amount"))["s"]
    cash_out = session.refunds.filter(method=PaymentMethod.CASH).aggregate(s=Sum("amount"))["s"]
    return SessionTotals(session.opening_float, int(cash_in or 0), int(cash_out or 0))


def current_session(cashier: User) -> CashierSession | None:
    return unique_or_none(  # one open drawer per cashier (constraint)
        CashierSession.objects.select_related("center").filter(
            cashier=cashier, state=CashierSession.State.OPEN
        )
    )


def open_session(cashier: User, opening_float: int) -> CashierSession:
    """Open the cashier's drawer at their center with `opening_float` piastres in it.

    One open session per cashier: if one is open already (a double-submitted form, or
    yesterday's drawer never closed) this raises `SessionAlreadyOpen` carrying it.
    """
    staff = require_role(cashier, roles.CASHIER)
    if staff.center_id is None:
        raise NotAllowed(_("Your account is not attached to a center: ask an administrator."))
    if opening_float < 0:
        raise DomainError(_("The opening float cannot be negative."))
    with transaction.atomic():
        existing = current_session(staff)
        if existing is not None:
            raise SessionAlreadyOpen(existing)
        now = timezone.now()
        try:
            with transaction.atomic():
                session = CashierSession.objects.create(
                    center_id=staff.center_id,
                    cashier=staff,
                    opened_at=now,
                    business_date=timezone.localdate(now),
                    opening_float=opening_float,
                )
        except IntegrityError:  # a concurrent double submit won the race
            winner = current_session(staff)
            if winner is None:
                raise Conflict(_("Your cash session could not be opened: try again.")) from None
            raise SessionAlreadyOpen(winner) from None
        audit.record(
            "payments.session_opened",
            actor=staff,
            obj=session,
            center=session.center.code,
            opening_float=opening_float,
            business_date=session.business_date.isoformat(),
        )
    return session


def close_session(session: CashierSession, actor: User, counted_cash: int) -> CashierSession:
    """Count the drawer: expected = float + cash receipts − cash refunds of this session;
    over/short = counted − expected (+ over, − short). The session is then immutable.

    The drawer's cashier closes it; a supervisor of its center (or an admin) may close a
    drawer its cashier left open.
    """
    if counted_cash < 0:
        raise DomainError(_("The counted cash cannot be negative."))
    with transaction.atomic():
        locked = (
            CashierSession.objects.select_for_update(of=("self",))
            .select_related("center", "cashier")
            .get(pk=session.pk)
        )
        staff = require_role(actor, roles.CASHIER, roles.SUPERVISOR, roles.ADMIN)
        if staff.pk != locked.cashier_id and not supervises(staff, locked.center_id):
            raise NotAllowed(
                _("Only the drawer's cashier or a supervisor of its center may close it.")
            )
        if locked.state == CashierSession.State.CLOSED:
            raise Conflict(_("This cash session is already closed."), code="session_closed")
        totals = session_totals(locked)
        locked.state = CashierSession.State.CLOSED
        locked.closed_at = timezone.now()
        locked.counted_cash = counted_cash
        locked.expected_cash = totals.expected
        locked.over_short = counted_cash - totals.expected
        locked.save(
            update_fields=["state", "closed_at", "counted_cash", "expected_cash", "over_short"]
        )
        audit.record(
            "payments.session_closed",
            actor=staff,
            obj=locked,
            center=locked.center.code,
            cashier=locked.cashier.username,
            opening_float=locked.opening_float,
            cash_in=totals.cash_in,
            cash_out=totals.cash_out,
            expected=totals.expected,
            counted=counted_cash,
            over_short=locked.over_short,
        )
    for name in ("state", "closed_at", "counted_cash", "expected_cash", "over_short"):
        setattr(session, name, getattr(locked, name))  # the caller's copy is not left stale
    return locked


def _drawer_for(staff: User, center: Center) -> CashierSession:
    """The acting cashier's open session, locked, at `center`, opened today."""
    session = unique_or_none(  # one open drawer per cashier (constraint)
        CashierSession.objects.select_for_update().filter(
            cashier=staff, state=CashierSession.State.OPEN
        )
    )
    if session is None:
        raise NoOpenSession(_("Open your cash session before taking or refunding cash."))
    if session.center_id != center.pk:
        raise NotAllowed(_("Your open cash session is at another center."))
    if session.business_date != timezone.localdate():
        raise DomainError(
            _("Your cash session was opened on %(day)s. Close it and open one for today.")
            % {"day": session.business_date.isoformat()},
            code="stale_session",
        )
    return session


# ---------------------------------------------------------------- payments


def _lock_application(app: Application) -> Application:
    return applications.lock(app)


def _refuse_second_payment(locked: Application) -> None:
    """Raise unless `locked` may be paid now: AlreadyPaid with the first receipt, or the
    state machine's own message (a cancelled application, say)."""
    if locked.status == Status.SUBMITTED:
        return
    first = locked.receipts.order_by("issued_at").first()
    if first is not None and locked.status != Status.CANCELLED:
        raise AlreadyPaid(first)
    check_transition("pay", locked.status)


def _replayed(receipt: Receipt | None, app: Application) -> Receipt | None:
    if receipt is not None and receipt.application_id != app.pk:
        raise Conflict(_("This payment form was already used for another application."))
    return receipt


def _description(app: Application) -> str:
    return f"{app.service.name_ar} — {app.reference}"[:250]


def record_cash_payment(
    app: Application, cashier: User, idempotency_key: str | None = None
) -> Receipt:
    """Take the application's fee in cash into the cashier's open drawer; `pay` it.

    Idempotent: the same `idempotency_key` returns the first receipt; paying an application
    that is already paid raises `AlreadyPaid` (with that receipt). Nothing is written when
    anything fails, and the receipt number is given back.
    """
    staff = _require_cashier_at(cashier, app.center)
    key = _clean_key(idempotency_key)
    if key and (
        done := _replayed(unique_or_none(Receipt.objects.filter(idempotency_key=key)), app)
    ):
        return done
    with transaction.atomic():
        locked = _lock_application(app)
        if key and (
            done := _replayed(unique_or_none(Receipt.objects.filter(idempotency_key=key)), app)
        ):
            return done
        _refuse_second_payment(locked)
        session = _drawer_for(staff, locked.center)
        receipt = Receipt.objects.create(
            number=next_reference(locked.center.code, RECEIPT_KIND),
            center=locked.center,
            application=locked,
            session=session,
            method=PaymentMethod.CASH,
            amount=locked.fee_amount,
            payer_name=locked.applicant.full_name[:200],
            description=_description(locked),
            issued_at=timezone.now(),
            business_date=session.business_date,
            issued_by=staff,
            idempotency_key=key,
        )
        applications.move(
            app,
            "pay",
            staff,
            savepoint=False,
            locked=locked,
            receipt=receipt.number,
            amount=receipt.amount,
        )
        audit.record(
            "payments.receipt_issued",
            actor=staff,
            obj=receipt,
            center=receipt.center.code,
            number=receipt.number,
            method=receipt.method,
            amount=receipt.amount,
            reference=locked.reference,
            session=str(session.pk),
        )
    return receipt


def take_cash(
    cashier: User, center: Center, amount: int, payer_name: str, description: str
) -> Receipt:
    """Cash for something that is not an application (a water bill, a tax), into the
    cashier's open drawer at `center`: a numbered receipt, audited. Runs inside the caller's
    transaction (the caller records what was paid in the same one)."""
    staff = _require_cashier_at(cashier, center)
    if amount <= 0:
        raise DomainError(_("There is nothing to pay."), code="nothing_to_pay")
    with transaction.atomic(savepoint=False):
        session = _drawer_for(staff, center)
        receipt = Receipt.objects.create(
            number=next_reference(center.code, RECEIPT_KIND),
            center=center,
            session=session,
            method=PaymentMethod.CASH,
            amount=amount,
            payer_name=payer_name[:200],
            description=description[:250],
            issued_at=timezone.now(),
            business_date=session.business_date,
            issued_by=staff,
        )
        audit.record(
            "payments.receipt_issued",
            actor=staff,
            obj=receipt,
            center=center.code,
            number=receipt.number,
            method=receipt.method,
            amount=amount,
            session=str(session.pk),
        )
    return receipt


def record_gateway_payment(
    app: Application, amount: int, external_ref: str, *, paid_at: dt.datetime | None = None
) -> Receipt:
    """Record a verified electronic payment (system actor, no drawer) and `pay` the application.

    Idempotent on `external_ref` (`<gateway>:<transaction id>`): a replayed gateway
    notification returns the first receipt. The amount must be the application's fee. The
    receipt counts on the day the gateway took the money (`paid_at`, default now): the day
    the gateway's settlement file lists it.
    """
    return _gateway_receipt(app, amount, external_ref, paid_at=paid_at, apply=True)


def record_unapplied_gateway_payment(
    app: Application,
    amount: int,
    external_ref: str,
    reason: str,
    *,
    paid_at: dt.datetime | None = None,
) -> Receipt:
    """Receipt money a gateway took for `app` that cannot pay it (the application was
    cancelled or paid meanwhile, or the amount is wrong). The application is not touched;
    the caller refunds the receipt (`refund_unapplied_gateway_receipt`). Money taken is
    always receipted, so the day's money still reconciles with the settlement file."""
    return _gateway_receipt(app, amount, external_ref, paid_at=paid_at, apply=False, note=reason)


def _checked_gateway_ref(external_ref: str, amount: int) -> str:
    ref = external_ref.strip()
    if not ref or len(ref) > MAX_KEY:
        raise DomainError(_("A gateway payment needs its transaction reference."))
    if amount <= 0:
        raise DomainError(_("A payment must be more than zero."))
    return ref


def _new_gateway_receipt(
    center: Center,
    amount: int,
    ref: str,
    payer_name: str,
    description: str,
    paid_at: dt.datetime | None,
    *,
    application: Application | None = None,
) -> Receipt:
    """The numbered receipt of money a gateway took (no drawer, system actor). It counts on
    the day the gateway took the money (`paid_at`, default now): the day its settlement file
    lists it. A second receipt for the same gateway transaction is refused by the database."""
    now = timezone.now()
    taken = min(paid_at, now) if paid_at is not None else now
    try:
        with transaction.atomic():
            return Receipt.objects.create(
                number=next_reference(center.code, RECEIPT_KIND),
                center=center,
                application=application,
                session=None,
                method=PaymentMethod.GATEWAY,
                amount=amount,
                payer_name=payer_name[:200],
                description=description[:250],
                issued_at=now,
                business_date=timezone.localdate(taken),
                issued_by=None,
                external_ref=ref,
            )
    except IntegrityError:
        raise Conflict(_("This gateway transaction was already recorded.")) from None


def record_purpose_gateway_payment(
    center: Center,
    amount: int,
    external_ref: str,
    payer_name: str,
    description: str,
    *,
    paid_at: dt.datetime | None = None,
    note: str = "",
) -> Receipt:
    """Receipt a verified electronic payment of something else than an application (water
    bills), numbered in `center`'s series (the electronic center). Idempotent on
    `external_ref`. The caller applies it to the debt in the same transaction, or refunds it
    (`note` says why not)."""
    ref = _checked_gateway_ref(external_ref, amount)
    if found := unique_or_none(
        Receipt.objects.filter(method=PaymentMethod.GATEWAY, external_ref=ref)
    ):
        return found
    with transaction.atomic():
        receipt = _new_gateway_receipt(center, amount, ref, payer_name, description, paid_at)
        audit.record(
            "payments.receipt_issued",
            actor=None,
            obj=receipt,
            center=center.code,
            number=receipt.number,
            method=receipt.method,
            amount=amount,
            external_ref=ref,
            applied=not note,
            note=note,
        )
    return receipt


def _gateway_receipt(
    app: Application,
    amount: int,
    external_ref: str,
    *,
    paid_at: dt.datetime | None,
    apply: bool,
    note: str = "",
) -> Receipt:
    ref = _checked_gateway_ref(external_ref, amount)

    def replay() -> Receipt | None:
        found = unique_or_none(
            Receipt.objects.filter(method=PaymentMethod.GATEWAY, external_ref=ref)
        )
        return _replayed(found, app)

    if done := replay():
        return done
    with transaction.atomic():
        locked = _lock_application(app)
        if done := replay():
            return done
        if apply:
            if amount != locked.fee_amount:
                raise DomainError(
                    _("The amount paid (%(paid)s) is not the fee (%(fee)s).")
                    % {"paid": format_pounds(amount), "fee": format_pounds(locked.fee_amount)}
                )
            _refuse_second_payment(locked)
        receipt = _new_gateway_receipt(
            locked.center,
            amount,
            ref,
            locked.applicant.full_name,
            _description(locked),
            paid_at,
            application=locked,
        )
        if apply:
            applications.move(
                app,
                "pay",
                None,
                check_permission=False,
                savepoint=False,
                locked=locked,
                receipt=receipt.number,
                amount=amount,
            )
        audit.record(
            "payments.receipt_issued",
            actor=None,
            obj=receipt,
            center=receipt.center.code,
            number=receipt.number,
            method=receipt.method,
            amount=amount,
            reference=locked.reference,
            external_ref=ref,
            applied=apply,
            note=note,
        )
    return receipt


# ---------------------------------------------------------------- refunds


def refunded_amount(receipt: Receipt) -> int:
    total = Refund.objects.filter(receipt=receipt).aggregate(s=Sum("amount"))["s"]
    return int(total or 0)


def refund_receipt(
    receipt: Receipt,
    actor: User,
    reason: str,
    amount: int | None = None,
    idempotency_key: str | None = None,
) -> Refund:
    """Pay back `amount` (default: all that is left) of `receipt` as a reversing entry.

    Cash goes out of the acting cashier's open drawer at the receipt's center; an electronic
    payment goes back through the gateway (cashier of the center or a supervisor). Never more
    than what is left unrefunded; a reason is required. The application is not touched here:
    `cancel_with_refund` does both.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the refund."))
    if len(reason) > 250:
        raise DomainError(_("The reason is too long (250 characters at most)."))
    key = _clean_key(idempotency_key)

    def replay() -> Refund | None:
        if not key:
            return None
        found = unique_or_none(Refund.objects.filter(idempotency_key=key))
        if found is not None and found.receipt_id != receipt.pk:
            raise Conflict(_("This refund form was already used for another receipt."))
        return found

    if done := replay():
        return done
    with transaction.atomic():
        locked = (
            Receipt.objects.select_for_update(of=("self",))
            .select_related("center")
            .get(pk=receipt.pk)
        )
        if done := replay():
            return done
        staff, session = _refund_authority(actor, locked)
        _require_refundable_application(locked)
        refund = _write_refund(
            locked, _refund_value(locked, amount), reason, staff=staff, session=session, key=key
        )
    return refund


def _refund_value(receipt: Receipt, amount: int | None) -> int:
    left = receipt.amount - refunded_amount(receipt)
    if left <= 0:
        raise DomainError(_("This receipt has already been refunded in full."))
    value = left if amount is None else amount
    if value <= 0:
        raise DomainError(_("The refund amount must be more than zero."))
    if value > left:
        raise DomainError(
            _("You cannot refund more than what is left on this receipt (%(left)s).")
            % {"left": format_pounds(left)}
        )
    return value


def _write_refund(
    locked: Receipt,
    value: int,
    reason: str,
    *,
    staff: User | None,
    session: CashierSession | None,
    key: str | None,
    external_ref: str = "",
) -> Refund:
    """The refund row, its number and audit event, inside the caller's transaction (the
    receipt row locked). An electronic refund goes back through the gateway first, with the
    refund number as its idempotency reference: if the gateway refuses or cannot be reached,
    the transaction rolls back and nothing is recorded (the number is given back)."""
    now = timezone.now()
    number = next_reference(locked.center.code, REFUND_KIND)
    ref = external_ref
    if locked.method == PaymentMethod.GATEWAY and not ref:
        ref = _refund_at_gateway(locked, value, number)
    refund = Refund.objects.create(
        number=number,
        receipt=locked,
        center=locked.center,
        session=session,
        method=locked.method,
        amount=value,
        reason=reason[:250],
        issued_at=now,
        business_date=session.business_date if session else timezone.localdate(now),
        issued_by=staff,
        idempotency_key=key,
        external_ref=ref,
    )
    if locked.method == PaymentMethod.GATEWAY and refunded_amount(locked) >= locked.amount:
        PaymentIntent.objects.filter(receipt=locked, status=IntentStatus.SUCCEEDED).update(
            status=IntentStatus.REFUNDED, updated_at=now
        )
    audit.record(
        "payments.refunded",
        actor=staff,
        obj=refund,
        center=locked.center.code,
        number=refund.number,
        receipt=locked.number,
        method=refund.method,
        amount=value,
        reason=reason,
        session=str(session.pk) if session else "",
        external_ref=ref,
    )
    notify_refund(refund)
    return refund


def _refund_at_gateway(receipt: Receipt, amount: int, number: str) -> str:
    """Ask the receipt's gateway to give `amount` back; return the refund's external ref."""
    from baladiya.payments.gateways.base import (
        NotConfigured,
        UnknownGateway,
        external_ref,
        split_external_ref,
    )
    from baladiya.payments.gateways.registry import get_gateway

    parts = split_external_ref(receipt.external_ref)
    if parts is None:
        raise DomainError(
            _("This electronic payment has no gateway reference: it cannot be refunded here.")
        )
    name, payment_id = parts
    try:
        gateway = get_gateway(name)
    except UnknownGateway:
        raise NotConfigured(
            _("The payment channel of this receipt (%(name)s) is not set up on this server.")
            % {"name": name}
        ) from None
    result = gateway.refund(payment_id, amount, number)
    return external_ref(name, result.refund_id)


def refund_unapplied_gateway_receipt(receipt: Receipt, reason: str, key: str) -> Refund | None:
    """Give back, through the gateway, all that is left of a receipt whose money did not pay
    its application (`record_unapplied_gateway_payment`). System actor; idempotent on `key`.
    Returns None when nothing is left."""
    if found := Refund.objects.filter(idempotency_key=key).first():
        return found
    with transaction.atomic():
        locked = (
            Receipt.objects.select_for_update(of=("self",))
            .select_related("center")
            .get(pk=receipt.pk)
        )
        if found := Refund.objects.filter(idempotency_key=key).first():
            return found
        if locked.method != PaymentMethod.GATEWAY:
            raise DomainError(_("Only an electronic payment is refunded automatically."))
        left = locked.amount - refunded_amount(locked)
        if left <= 0:
            return None
        return _write_refund(locked, left, reason, staff=None, session=None, key=key)


def record_gateway_refund(receipt: Receipt, amount: int, external_ref: str, reason: str) -> Refund:
    """Record a refund the gateway made and told us about (its webhook), e.g. one its operator
    made from the gateway's dashboard: the money left, so it is entered. Idempotent on
    `external_ref`; the receipt row is locked, so a refund we are sending ourselves (and the
    gateway notifies before our transaction ends) is found, not recorded twice."""
    with transaction.atomic():
        locked = (
            Receipt.objects.select_for_update(of=("self",))
            .select_related("center")
            .get(pk=receipt.pk)
        )
        found = Refund.objects.filter(method=PaymentMethod.GATEWAY, external_ref=external_ref)
        if done := found.first():
            return done
        if locked.method != PaymentMethod.GATEWAY:
            raise DomainError(_("Only an electronic payment is refunded by its gateway."))
        value = _refund_value(locked, amount)
        return _write_refund(
            locked, value, reason, staff=None, session=None, key=None, external_ref=external_ref
        )


def _refund_authority(actor: Any, receipt: Receipt) -> tuple[User, CashierSession | None]:
    if receipt.method == PaymentMethod.CASH:
        if (
            getattr(actor, "is_authenticated", False)
            and not actor.has_role(roles.CASHIER)
            and supervises(actor, receipt.center_id)
        ):
            raise NotAllowed(
                _("Cash is paid back from a cashier's drawer: ask the center's cashier.")
            )
        staff = _require_cashier_at(actor, receipt.center)
        return staff, _drawer_for(staff, receipt.center)
    staff = require_role(actor, roles.CASHIER, roles.SUPERVISOR, roles.ADMIN)
    if not can_refund(staff, receipt):
        raise NotAllowed(_("This receipt belongs to another center."))
    return staff, None


# Money goes back only when the council will not deliver what was paid for. Otherwise a fee
# could be refunded while the document still goes out (money leaves the drawer, the drawer
# still balances, and nobody notices).
REFUNDABLE_STATES = frozenset({"rejected", "cancelled"})


def _require_refundable_application(receipt: Receipt) -> None:
    app = receipt.application
    if app is not None and app.status not in REFUNDABLE_STATES and not _unapplied(receipt):
        raise DomainError(
            _(
                "A fee is refunded only for a rejected or cancelled application. "
                "To refund an application still in progress, cancel it with a refund."
            ),
            code="not_refundable",
        )


def _unapplied(receipt: Receipt) -> bool:
    """An electronic payment that did not pay its application (it arrived after the
    application was cancelled or paid otherwise): it may always be given back."""
    return (
        receipt.method == PaymentMethod.GATEWAY
        and PaymentIntent.objects.filter(receipt=receipt).exclude(refund_due="").exists()
    )


def cancel_with_refund(app: Application, actor: User, reason: str) -> Refund:
    """Cancel a paid application and refund everything left on its receipt(s), together.

    Returns the (first) refund. Fails, writing nothing, if the transition is not allowed,
    nothing is left to refund, or a cash refund has no open drawer.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the refund."))
    with transaction.atomic():
        applications.move(app, "cancel_with_refund", actor, reason)
        refunds = [
            refund_receipt(receipt, actor, reason)
            for receipt in Receipt.objects.filter(application_id=app.pk).order_by("issued_at")
            if receipt.amount > refunded_amount(receipt)
        ]
        if not refunds:
            raise DomainError(_("This application has no payment left to refund."))
    return refunds[0]


def may_cancel_with_refund(app: Application | None) -> bool:
    return app is not None and app.status in transition("cancel_with_refund").source


# ---------------------------------------------------------------- printing

METHOD_AR = {PaymentMethod.CASH: "نقداً", PaymentMethod.GATEWAY: "دفع إلكتروني"}


def receipt_data(receipt: Receipt) -> dict[str, Any]:
    """What the printed receipt shows (Arabic content; numbers as plain LTR strings)."""
    refunds = list(receipt.refunds.order_by("issued_at"))
    app = receipt.application
    cashier = receipt.issued_by
    return {
        "title": "إيصال قبض",
        "number": receipt.number,
        "issued_at": _local(receipt.issued_at),
        "printed_at": _local(timezone.now()),
        "center_name": receipt.center.name_ar,
        "center_code": receipt.center.code,
        "payer": receipt.payer_name,
        "reference": app.reference if app else "",
        "service": app.service.name_ar if app else receipt.description,
        "method": METHOD_AR.get(receipt.method, receipt.method),  # type: ignore[call-overload]
        "external_ref": receipt.external_ref,
        "amount": format_pounds(receipt.amount),
        "cashier": cashier.display_name() if cashier else "",  # none for e-payments
        "refunds": [
            {"number": r.number, "amount": format_pounds(r.amount), "reason": r.reason}
            for r in refunds
        ],
        "net": format_pounds(receipt.amount - sum(r.amount for r in refunds)),
        "footer": "إيصال صادر عن منظومة بلدية — مجلس مدينة حمص",
    }


def receipt_pdf(receipt: Receipt) -> bytes:
    from baladiya.documents.rendering import render_pdf

    return render_pdf("receipt.typ", receipt_data(receipt))
