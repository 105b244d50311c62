"""Gateway settlement files against our books (read-only).

`settlement_report(gateway, day)`: the finance officer's list. Every line of the day's
imported file is matched, by the gateway's transaction id, with our electronic receipt
(payments) or refund (refunds) of that business day; what is left over is a mismatch:

    missing_ours      the gateway took (or gave back) money we have no record of
    missing_gateway   we recorded money the gateway's file does not list
    amount_differs    both sides have it, with different amounts

`gateway_day(center, day)`: the "gateway settlements" term of DESIGN §5 invariant 1 for one
center: what the settlement files say that center's electronic money was (or, for a gateway
whose file for the day is not imported yet, our own records, shown as "awaiting").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

from baladiya.payments.gateways.base import external_ref, split_external_ref
from baladiya.payments.models import (
    PaymentIntent,
    PaymentMethod,
    Receipt,
    Refund,
    SettlementImport,
    SettlementLine,
)

if TYPE_CHECKING:
    from baladiya.centers.models import Center

MISSING_OURS = "missing_ours"
MISSING_GATEWAY = "missing_gateway"
AMOUNT_DIFFERS = "amount_differs"
PAYMENT = "payment"
REFUND = "refund"


def latest_import(gateway: str, day: dt.date) -> SettlementImport | None:
    return SettlementImport.objects.filter(gateway=gateway, day=day).order_by("-created_at").first()


def _latest_imports(day: dt.date) -> dict[str, SettlementImport]:
    latest: dict[str, SettlementImport] = {}
    for imp in SettlementImport.objects.filter(day=day).order_by("created_at"):
        latest[imp.gateway] = imp  # later imports replace earlier ones
    return latest


def _line_key(gateway: str, line: SettlementLine) -> tuple[str, str]:
    return line.kind, external_ref(gateway, line.transaction_id)


@dataclass(frozen=True)
class Mismatch:
    kind: str
    record_type: str  # payment | refund
    reference: str  # `<gateway>:<transaction id>`
    gateway_amount: int | None
    our_amount: int | None
    our_number: str = ""
    application_reference: str = ""
    intent_id: str = ""
    note: str = ""

    @property
    def transaction_id(self) -> str:
        return self.reference.partition(":")[2]


@dataclass
class SettlementReport:
    gateway: str
    day: dt.date
    settlement: SettlementImport | None
    gateway_payments: int = 0
    gateway_refunds: int = 0
    our_payments: int = 0
    our_refunds: int = 0
    matched: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def gateway_net(self) -> int:
        return self.gateway_payments - self.gateway_refunds

    @property
    def our_net(self) -> int:
        return self.our_payments - self.our_refunds

    @property
    def reconciled(self) -> bool:
        return self.settlement is not None and not self.mismatches

    def of_kind(self, kind: str) -> list[Mismatch]:
        return [m for m in self.mismatches if m.kind == kind]


def _ours(gateway: str, day: dt.date) -> dict[tuple[str, str], Receipt | Refund]:
    prefix = external_ref(gateway, "")
    records: dict[tuple[str, str], Receipt | Refund] = {}
    for receipt in Receipt.objects.filter(
        method=PaymentMethod.GATEWAY, business_date=day, external_ref__startswith=prefix
    ).select_related("application"):
        records[(PAYMENT, receipt.external_ref)] = receipt
    for refund in Refund.objects.filter(
        method=PaymentMethod.GATEWAY, business_date=day, external_ref__startswith=prefix
    ).select_related("receipt__application"):
        records[(REFUND, refund.external_ref)] = refund
    return records


def _application_reference(record: Receipt | Refund) -> str:
    receipt = record if isinstance(record, Receipt) else record.receipt
    return receipt.application.reference if receipt.application else ""


def _recorded_elsewhere(kind: str, ref: str) -> str:
    """The business day on which we recorded `ref`, if not the file's day."""
    model: type[Receipt] | type[Refund] = Receipt if kind == PAYMENT else Refund
    found = model.objects.filter(method=PaymentMethod.GATEWAY, external_ref=ref).first()
    return found.business_date.isoformat() if found else ""


def settlement_report(gateway: str, day: dt.date) -> SettlementReport:
    imp = latest_import(gateway, day)
    ours = _ours(gateway, day)
    report = SettlementReport(gateway=gateway, day=day, settlement=imp)
    for (kind, _ref), record in ours.items():
        if kind == PAYMENT:
            report.our_payments += record.amount
        else:
            report.our_refunds += record.amount
    if imp is None:
        return report
    intents = {
        i.gateway_payment_id: i
        for i in PaymentIntent.objects.filter(
            gateway=gateway,
            gateway_payment_id__in={line.payment_id for line in imp.lines.all()},
        ).select_related("application")
    }
    seen: set[tuple[str, str]] = set()
    for line in imp.lines.all():
        key = _line_key(gateway, line)
        seen.add(key)
        if line.kind == PAYMENT:
            report.gateway_payments += line.amount
        else:
            report.gateway_refunds += line.amount
        mine = ours.get(key)
        if mine is None:
            intent = intents.get(line.payment_id)
            other_day = _recorded_elsewhere(line.kind, key[1])
            report.mismatches.append(
                Mismatch(
                    kind=MISSING_OURS,
                    record_type=line.kind,
                    reference=key[1],
                    gateway_amount=line.amount,
                    our_amount=None,
                    application_reference=intent.label if intent else "",
                    intent_id=str(intent.pk) if intent else "",
                    note=other_day,
                )
            )
        elif mine.amount != line.amount:
            report.mismatches.append(
                Mismatch(
                    kind=AMOUNT_DIFFERS,
                    record_type=line.kind,
                    reference=key[1],
                    gateway_amount=line.amount,
                    our_amount=mine.amount,
                    our_number=mine.number,
                    application_reference=_application_reference(mine),
                )
            )
        else:
            report.matched += 1
    for key, mine in ours.items():
        if key not in seen:
            report.mismatches.append(
                Mismatch(
                    kind=MISSING_GATEWAY,
                    record_type=key[0],
                    reference=key[1],
                    gateway_amount=None,
                    our_amount=mine.amount,
                    our_number=mine.number,
                    application_reference=_application_reference(mine),
                )
            )
    return report


# ---------------------------------------------------------------- invariant 1, per center


@dataclass(frozen=True)
class GatewayDay:
    """A center's electronic money for a day: `settled` per the imported settlement files,
    `awaiting` from our own records where the gateway's file is not imported yet."""

    settled: int
    awaiting: int
    gateways_settled: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.settled + self.awaiting


def _lines_by_key(imports: dict[str, SettlementImport]) -> dict[tuple[str, str], SettlementLine]:
    lines: dict[tuple[str, str], SettlementLine] = {}
    for name, imp in imports.items():
        for line in imp.lines.all():
            lines[_line_key(name, line)] = line
    return lines


def _signed(kind: str, amount: int) -> int:
    return amount if kind == PAYMENT else -amount


def gateway_day(center: Center, day: dt.date) -> GatewayDay:
    imports = _latest_imports(day)
    lines = _lines_by_key(imports)
    settled = awaiting = 0
    records: Iterable[tuple[str, str, int]] = [
        *(
            (PAYMENT, ref, amount)
            for ref, amount in Receipt.objects.filter(
                center=center, business_date=day, method=PaymentMethod.GATEWAY
            ).values_list("external_ref", "amount")
        ),
        *(
            (REFUND, ref, amount)
            for ref, amount in Refund.objects.filter(
                center=center, business_date=day, method=PaymentMethod.GATEWAY
            ).values_list("external_ref", "amount")
        ),
    ]
    for kind, ref, amount in records:
        parts = split_external_ref(ref)
        if parts is not None and parts[0] in imports:
            line = lines.get((kind, ref))
            settled += _signed(kind, line.amount) if line is not None else 0
        else:
            awaiting += _signed(kind, amount)
    settled += _unrecorded_for(center, day, lines)
    return GatewayDay(settled, awaiting, tuple(sorted(imports)))


def _unrecorded_for(
    center: Center, day: dt.date, lines: dict[tuple[str, str], SettlementLine]
) -> int:
    """Money in the day's files that no receipt or refund of that day records, attributed to
    `center` through the payment's intent (the application's center)."""
    if not lines:
        return 0
    refs = [ref for _kind, ref in lines]
    known = {
        (PAYMENT, ref)
        for ref in Receipt.objects.filter(
            method=PaymentMethod.GATEWAY, business_date=day, external_ref__in=refs
        ).values_list("external_ref", flat=True)
    } | {
        (REFUND, ref)
        for ref in Refund.objects.filter(
            method=PaymentMethod.GATEWAY, business_date=day, external_ref__in=refs
        ).values_list("external_ref", flat=True)
    }
    missing = [(key, line) for key, line in lines.items() if key not in known]
    if not missing:
        return 0
    wanted = Q(pk__in=[])
    for (_kind, ref), line in missing:
        wanted |= Q(gateway=ref.partition(":")[0], gateway_payment_id=line.payment_id)
    centers = {
        (gateway, payment_id): center_id
        for gateway, payment_id, center_id in PaymentIntent.objects.filter(wanted).values_list(
            "gateway", "gateway_payment_id", "application__center_id"
        )
    }
    total = 0
    for (kind, ref), line in missing:
        if centers.get((ref.partition(":")[0], line.payment_id)) == center.pk:
            total += _signed(kind, line.amount)
    return total
