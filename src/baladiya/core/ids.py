"""Identifiers: UUIDv7 primary keys and per-node human references.

UUIDv7 sorts by creation time, so indexes stay append-mostly, and ids minted offline at a
center never collide with the central node's.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A RFC 9562 version-7 UUID: 48-bit Unix milliseconds, then 74 random bits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


def format_reference(prefix: str, year: int, seq: int, kind: str = "") -> str:
    """`C03-26-000123`; with a kind letter: `C03-R26-000123` (receipts), `C03-D26-…` (documents)."""
    return f"{prefix}-{kind}{year % 100:02d}-{seq:06d}"
