"""Retry an operation that lost a database lock race (a deadlock, a serialization failure,
SQLite's "database is locked"). The database rolled the whole transaction back, so running
the operation again is safe; a client never sees a 5xx for it. After the last try the
answer is 409 `busy` with Retry-After (see errors.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import OperationalError, connection

ATTEMPTS = 4


def is_transient(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    name = type(cause).__name__ if cause is not None else ""
    if name in ("DeadlockDetected", "SerializationFailure", "LockNotAvailable"):
        return True
    return "database is locked" in str(exc)


def retry_transient(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return view(*args, **kwargs)
            except OperationalError as exc:
                # Inside an outer transaction (a test) the retry would run in a dead one.
                if attempt == ATTEMPTS or connection.in_atomic_block or not is_transient(exc):
                    raise
                time.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
