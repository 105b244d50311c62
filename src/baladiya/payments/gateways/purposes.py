"""What else than an application's fee may be paid online (decision 0006, addendum): each
purpose is one small adapter registered by the app that owns the debt (the water app
registers `water_bills` in its AppConfig.ready).

A purpose answers three questions about an intent whose money the gateway took:
- `unapplied_reason`: why the money cannot pay what it was for ('' if it can: the debt is
  still owed, in full, for the amount paid). Stored in the council's language; the receipt
  is then refunded automatically, like an application's fee paid twice.
- `apply`: record the payment on the debt (inside the transaction that writes the receipt).
- `next_url`: where the payer goes once the payment is settled.
And `may_view`: who may see the intent's return page besides the one who started it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from baladiya.payments.models import PaymentIntent, Receipt


class Purpose(Protocol):
    name: str

    def unapplied_reason(self, intent: PaymentIntent, amount: int) -> str: ...

    def apply(self, intent: PaymentIntent, receipt: Receipt) -> None: ...

    def next_url(self, intent: PaymentIntent, user: Any) -> str: ...

    def may_view(self, user: Any, intent: PaymentIntent) -> bool: ...


@dataclass
class _Registry:
    purposes: dict[str, Purpose]


_REGISTRY = _Registry({})


def register(purpose: Purpose) -> None:
    _REGISTRY.purposes[purpose.name] = purpose


def purpose_of(intent: PaymentIntent) -> Purpose:
    """The adapter of an intent that pays something else than an application."""
    try:
        return _REGISTRY.purposes[intent.purpose]
    except KeyError:
        raise LookupError(f"no payment purpose {intent.purpose!r} is registered") from None
