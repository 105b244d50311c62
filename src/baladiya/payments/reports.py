"""Daily reconciliation per center, and DESIGN §5 invariant 1:

    receipts − refunds  =  cash counted + gateway settlements

for a center and a business day, where, term by term,

    receipts − refunds      every receipt minus every refund of that center and day
                            (read from the Receipt and Refund rows);
    cash counted            Σ over the day's closed drawers of (counted − float − over/short)
                            (read from what was stored when each drawer was counted), plus the
                            cash held in drawers still open (their receipts − refunds so far);
    gateway settlements     what the gateways' imported settlement files of that day say
                            this center's electronic money was (matched by transaction id,
                            plus money in the files that no receipt records, attributed to
                            the center through the payment's intent); for a gateway whose
                            file is not imported yet, our own electronic receipts − refunds
                            ("awaiting settlement"). See `payments.gateways.settlement`.

The two sides are computed from different records, so a cash receipt outside a drawer, a
receipt added to a closed drawer, or a drawer whose stored count disagrees with its receipts
all show up as a difference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Sum
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.payments.gateways.settlement import GatewayDay, gateway_day
from baladiya.payments.models import CashierSession, PaymentMethod, Receipt, Refund

if TYPE_CHECKING:
    from baladiya.centers.models import Center

CASH = str(PaymentMethod.CASH)
GATEWAY = str(PaymentMethod.GATEWAY)


def reconciliation_centers(user: Any) -> list[Center]:
    """Centers whose money reports `user` may read: every center for administrators,
    auditors and a supervisor of no center; a center's supervisor, that center only."""
    from baladiya.centers.models import Center

    if user.has_role(roles.ADMIN, roles.AUDITOR) or (
        user.has_role(roles.SUPERVISOR) and user.center_id is None
    ):
        return list(Center.objects.order_by("code"))
    if user.has_role(roles.SUPERVISOR) and user.center is not None:
        return [user.center]
    return []


@dataclass(frozen=True)
class MethodTotal:
    method: str
    label: str
    count: int
    amount: int


@dataclass(frozen=True)
class SessionLine:
    session: CashierSession
    cashier_name: str
    opening_float: int
    cash_in: int
    cash_out: int
    expected: int
    counted: int | None
    over_short: int | None

    @property
    def is_open(self) -> bool:
        return self.session.state == CashierSession.State.OPEN

    @property
    def consistent(self) -> bool:
        """A closed drawer's stored expected cash still matches its receipts and refunds."""
        if self.is_open:
            return True
        recomputed = self.opening_float + self.cash_in - self.cash_out
        return (
            self.session.expected_cash == recomputed
            and self.counted is not None
            and self.over_short == self.counted - recomputed
        )


@dataclass(frozen=True)
class HourBar:
    hour: int
    count: int
    amount: int


@dataclass
class Reconciliation:
    center: Center
    day: dt.date
    receipts: list[MethodTotal]
    refunds: list[MethodTotal]
    sessions: list[SessionLine]
    by_hour: list[HourBar] = field(default_factory=list)
    gateway: GatewayDay | None = None

    # ------------------------------------------------ the receipts side
    @property
    def receipts_count(self) -> int:
        return sum(m.count for m in self.receipts)

    @property
    def receipts_total(self) -> int:
        return sum(m.amount for m in self.receipts)

    @property
    def refunds_count(self) -> int:
        return sum(m.count for m in self.refunds)

    @property
    def refunds_total(self) -> int:
        return sum(m.amount for m in self.refunds)

    @property
    def net(self) -> int:
        """Receipts − refunds."""
        return self.receipts_total - self.refunds_total

    # ------------------------------------------------ the cash + settlements side
    @property
    def closed_sessions(self) -> list[SessionLine]:
        return [s for s in self.sessions if not s.is_open]

    @property
    def open_sessions(self) -> list[SessionLine]:
        return [s for s in self.sessions if s.is_open]

    @property
    def counted_net(self) -> int:
        """Σ (counted − float) over closed drawers: the cash actually handed in."""
        return sum((s.counted or 0) - s.opening_float for s in self.closed_sessions)

    @property
    def over_short(self) -> int:
        """Σ over/short of closed drawers (+ over, − short)."""
        return sum(s.over_short or 0 for s in self.closed_sessions)

    @property
    def open_cash(self) -> int:
        """Cash taken by drawers still open, not yet counted."""
        return sum(s.cash_in - s.cash_out for s in self.open_sessions)

    @property
    def gateway_settlements(self) -> int:
        if self.gateway is not None:
            return self.gateway.total
        return _amount(self.receipts, GATEWAY) - _amount(self.refunds, GATEWAY)

    @property
    def gateway_awaiting(self) -> int:
        """The part of the gateway settlements no imported settlement file covers yet."""
        return self.gateway.awaiting if self.gateway is not None else self.gateway_settlements

    @property
    def accounted(self) -> int:
        """Cash counted (net of floats, over/short taken out) + open drawers + gateway."""
        return self.counted_net - self.over_short + self.open_cash + self.gateway_settlements

    @property
    def difference(self) -> int:
        return self.net - self.accounted

    @property
    def balanced(self) -> bool:
        return self.difference == 0 and all(s.consistent for s in self.sessions)

    @property
    def has_activity(self) -> bool:
        return bool(self.receipts or self.refunds or self.sessions)


def _amount(totals: list[MethodTotal], method: str) -> int:
    return sum(t.amount for t in totals if t.method == method)


def _by_method(rows: list[dict[str, object]]) -> list[MethodTotal]:
    labels = dict(PaymentMethod.choices)
    return [
        MethodTotal(
            method=str(row["method"]),
            label=str(labels.get(str(row["method"]), row["method"])),
            count=int(row["n"]),  # type: ignore[call-overload]
            amount=int(row["s"] or 0),  # type: ignore[call-overload]
        )
        for row in sorted(rows, key=lambda r: str(r["method"]))
    ]


def _sums_by_session(model: type[Receipt] | type[Refund], ids: list[object]) -> dict[object, int]:
    rows = (
        model.objects.filter(session_id__in=ids, method=PaymentMethod.CASH)
        .values("session_id")
        .annotate(s=Sum("amount"))
    )
    return {row["session_id"]: int(row["s"] or 0) for row in rows}


def daily_reconciliation(center: Center, day: dt.date) -> Reconciliation:
    receipts = Receipt.objects.filter(center=center, business_date=day)
    refunds = Refund.objects.filter(center=center, business_date=day)
    sessions = list(
        CashierSession.objects.filter(center=center, business_date=day)
        .select_related("cashier", "center")
        .order_by("opened_at")
    )
    ids: list[object] = [s.pk for s in sessions]
    cash_in = _sums_by_session(Receipt, ids)
    cash_out = _sums_by_session(Refund, ids)
    lines = []
    for s in sessions:
        got, paid_back = cash_in.get(s.pk, 0), cash_out.get(s.pk, 0)
        live_expected = s.opening_float + got - paid_back
        lines.append(
            SessionLine(
                session=s,
                cashier_name=s.cashier.display_name(),
                opening_float=s.opening_float,
                cash_in=got,
                cash_out=paid_back,
                expected=live_expected if s.expected_cash is None else s.expected_cash,
                counted=s.counted_cash,
                over_short=s.over_short,
            )
        )
    return Reconciliation(
        center=center,
        day=day,
        receipts=_by_method(
            list(receipts.values("method").annotate(n=Count("id"), s=Sum("amount")))
        ),
        refunds=_by_method(list(refunds.values("method").annotate(n=Count("id"), s=Sum("amount")))),
        sessions=lines,
        by_hour=_by_hour(receipts.values_list("issued_at", "amount")),
        gateway=gateway_day(center, day),
    )


def _by_hour(rows: object) -> list[HourBar]:
    counts = [0] * 24
    amounts = [0] * 24
    for issued_at, amount in rows:  # type: ignore[attr-defined]
        hour = timezone.localtime(issued_at).hour
        counts[hour] += 1
        amounts[hour] += int(amount)
    return [HourBar(h, counts[h], amounts[h]) for h in range(24)]


def money_balances(center: Center, day: dt.date) -> bool:
    """DESIGN §5 invariant 1 for one center and day."""
    return daily_reconciliation(center, day).balanced


def network_reconciliation(centers: list[Center], day: dt.date) -> list[Reconciliation]:
    """One reconciliation per center (for the all-centers overview)."""
    return [daily_reconciliation(center, day) for center in centers]
