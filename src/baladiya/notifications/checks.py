"""Startup checks: say plainly which outside systems a node has no adapter for."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register()
def outside_systems(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    missing = []
    if not getattr(settings, "SMS_SENDER", ""):
        missing.append(
            Warning(
                "No SMS gateway: one-time codes and status messages stay queued.",
                hint="Set BALADIYA_SMS_SENDER to the operator's adapter (import path).",
                id="baladiya.W001",
            )
        )
    if not getattr(settings, "POSTAL_SERVICE", ""):
        missing.append(
            Warning(
                "No postal service: documents cannot be dispatched by post.",
                hint="Set BALADIYA_POSTAL_SERVICE to the carrier's adapter (import path).",
                id="baladiya.W002",
            )
        )
    if not getattr(settings, "PAYMENT_GATEWAYS", []):
        missing.append(
            Warning(
                "No payment gateway: citizens cannot pay online (cash at a center only).",
                hint="Set BALADIYA_PAYMENT_GATEWAYS (see docs/decisions/0006-payment-gateways.md).",
                id="baladiya.W003",
            )
        )
    return missing
