"""Which payment channels this node offers, and their secrets (from the environment).

`PAYMENT_GATEWAYS` (setting; env `BALADIYA_PAYMENT_GATEWAYS`) lists the enabled channel
names; each name maps to one adapter class below. A channel's webhook secret comes from
`BALADIYA_GATEWAY_<NAME>_SECRET` (comma-separated for rotation: the first one signs).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from baladiya.payments.gateways.base import PaymentGateway, UnknownGateway

ADAPTERS: dict[str, str] = {
    "sandbox": "baladiya.payments.gateways.sandbox.SandboxGateway",
    "sep": "baladiya.payments.gateways.adapters.SyrianEPaymentGateway",
    "syriatel": "baladiya.payments.gateways.adapters.SyriatelCashGateway",
    "mtn": "baladiya.payments.gateways.adapters.MtnCashGateway",
    "shamcash": "baladiya.payments.gateways.adapters.ShamCashGateway",
}


def enabled_gateways() -> list[str]:
    names = getattr(settings, "PAYMENT_GATEWAYS", [])
    return [name for name in names if name in ADAPTERS]


def default_gateway() -> str:
    wanted = str(getattr(settings, "PAYMENT_GATEWAY_DEFAULT", "") or "")
    names = enabled_gateways()
    if wanted in names:
        return wanted
    return names[0] if names else ""


def secrets_for(name: str) -> list[str]:
    raw = str(getattr(settings, "PAYMENT_GATEWAY_SECRETS", {}).get(name, "") or "")
    return [part.strip() for part in raw.split(",") if part.strip()]


def get_gateway(name: str) -> PaymentGateway:
    """The adapter for an enabled channel; `UnknownGateway` (404) for anything else."""
    if name not in enabled_gateways():
        raise UnknownGateway(_("This payment channel is not offered here."))
    cls: type[PaymentGateway] = import_string(ADAPTERS[name])
    return cls(secrets_for(name))


def gateway_choices() -> list[tuple[str, str]]:
    choices = []
    for name in enabled_gateways():
        cls: type[PaymentGateway] = import_string(ADAPTERS[name])
        choices.append((name, str(cls.label or name)))
    return choices


def sandbox_enabled() -> bool:
    return "sandbox" in enabled_gateways()
