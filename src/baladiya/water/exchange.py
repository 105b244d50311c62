"""The exchange with the water establishment (issue 5, point 3), behind an interface.

The establishment hands us files (subscribers, meter readings, bills: `water.importing`
reads them) and takes back, once a day, the file of what our centers collected for its bills
(`water.collections`). How files travel depends on the counterpart: today nothing is
connected, so the `sandbox` behaves like one (DESIGN §4: every outside system sits behind
an interface with a sandbox implementation chosen by a setting).

    WATER_ESTABLISHMENT = "sandbox"            # default; or "package.module.ClassName"
    WATER_EXCHANGE_DIR  = VAR_DIR / "water-exchange"   # the sandbox's folders

The sandbox is a folder:

    outbox/     files the establishment left for us (what `incoming()` lists)
    taken/      the same once we acknowledged them (`acknowledge(name)`)
    inbox/      the collections files we sent it, as it received them
    receipts/   its acknowledgement of each (JSON), so a re-send gets the same answer
    control.json  failures to simulate: {"fail": 1, "timeout": 0} (the next N calls)

Like a real counterpart it refuses a collections file whose totals line disagrees with its
lines, and it fails or times out when told to, so callers' retries can be seen working.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from baladiya.core.errors import DomainError

T = TypeVar("T")


class EstablishmentUnavailable(DomainError):
    """Could not reach the establishment (down, timed out): worth trying again later."""

    status = 503
    code = "establishment_unavailable"


class EstablishmentRefused(DomainError):
    """The establishment answered and refused (a bad file): trying again will not help."""

    status = 422
    code = "establishment_refused"


@dataclass(frozen=True)
class IncomingFile:
    name: str
    size: int


@dataclass(frozen=True)
class Acknowledgement:
    """The establishment's receipt for a collections file we sent."""

    reference: str
    received_at: str  # ISO 8601, the establishment's clock
    replaces: str = ""  # an earlier acknowledgement for the same day, when corrected


@runtime_checkable
class Establishment(Protocol):
    """What we need from the water establishment, whatever the transport."""

    name: str

    def incoming(self) -> list[IncomingFile]:
        """Files waiting for us, oldest first."""

    def fetch(self, name: str) -> bytes:
        """The content of one waiting file."""

    def acknowledge(self, name: str) -> None:
        """We imported `name`: the establishment stops offering it."""

    def send_collections(self, day: dt.date, filename: str, content: bytes) -> Acknowledgement:
        """Deliver our collections file of `day`; returns the establishment's receipt.
        Sending the same content again returns the same receipt."""


# ---------------------------------------------------------------- choosing one


def get_establishment() -> Establishment:
    """The counterpart named by `settings.WATER_ESTABLISHMENT` (default: the sandbox)."""
    name = str(getattr(settings, "WATER_ESTABLISHMENT", "sandbox") or "sandbox")
    if name == "sandbox":
        return SandboxEstablishment(exchange_dir())
    module_name, _dot, class_name = name.rpartition(".")
    try:
        cls = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise DomainError(
            _("The water establishment connector %(name)s is not installed.") % {"name": name},
            code="no_establishment",
        ) from exc
    found: Establishment = cls()
    return found


def exchange_dir() -> Path:
    default = Path(settings.VAR_DIR) / "water-exchange"
    return Path(getattr(settings, "WATER_EXCHANGE_DIR", default))


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = 3,
    wait: float = 1.0,
    sleep: Callable[[float], None] | None = None,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> T:
    """`call()`, tried again after a transient failure (`EstablishmentUnavailable`), waiting
    `wait`, then twice as long, and so on (`sleep`: `time.sleep` unless given). A refusal is
    not retried: it would be refused again."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except EstablishmentUnavailable as exc:
            if attempt == attempts:
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            (sleep or time.sleep)(wait * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------- the sandbox

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
COLLECTIONS_HEADER = (
    "receipt_number",
    "center",
    "meter_number",
    "cycle",
    "bill_id",
    "amount_piastres",
    "method",
    "paid_at",
    "overpayment",
)
TOTAL_MARK = "TOTAL"


class SandboxEstablishment:
    """A stand-in water establishment in a folder (see the module docstring)."""

    name = "sandbox"

    def __init__(self, root: Path, *, timeout_seconds: float = 0.0) -> None:
        self.root = Path(root)
        # How long a simulated time-out hangs before failing (0 in tests: fail at once).
        self.timeout_seconds = timeout_seconds

    # ------------------------------------------------ folders
    @property
    def outbox(self) -> Path:
        return self._folder("outbox")

    def _folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------ simulated trouble
    def fail_next(self, count: int = 1, *, timeout: bool = False) -> None:
        """Make the next `count` calls fail (or time out), as a real link sometimes does."""
        control = self._control()
        control["timeout" if timeout else "fail"] = count
        self._write_control(control)

    def _control(self) -> dict[str, int]:
        try:
            data = json.loads((self.root / "control.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: int(v) for k, v in data.items() if isinstance(v, int)}

    def _write_control(self, control: dict[str, int]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.root / "control.json", json.dumps(control).encode())

    def _trouble(self) -> None:
        control = self._control()
        for mode in ("timeout", "fail"):
            if control.get(mode, 0) > 0:
                control[mode] -= 1
                self._write_control(control)
                if mode == "timeout":
                    time.sleep(self.timeout_seconds)
                    raise EstablishmentUnavailable(
                        _("The water establishment did not answer in time."), code="timeout"
                    )
                raise EstablishmentUnavailable(
                    _("The water establishment's service is unavailable; try again later.")
                )

    # ------------------------------------------------ the establishment's side (tests, demo)
    def publish(self, name: str, content: bytes) -> Path:
        """The establishment leaves a file for us."""
        _check_name(name)
        target = self.outbox / name
        _write_atomically(target, content)
        return target

    def received(self, filename: str) -> bytes:
        """A collections file as the establishment received it."""
        _check_name(filename)
        return (self._folder("inbox") / filename).read_bytes()

    # ------------------------------------------------ the interface
    def incoming(self) -> list[IncomingFile]:
        self._trouble()
        files = [p for p in self.outbox.iterdir() if p.is_file() and _SAFE_NAME.fullmatch(p.name)]
        files.sort(key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [IncomingFile(p.name, p.stat().st_size) for p in files]

    def fetch(self, name: str) -> bytes:
        _check_name(name)
        self._trouble()
        path = self.outbox / name
        if not path.is_file():
            raise EstablishmentRefused(
                _("The establishment has no file named %(name)s.") % {"name": name},
                code="no_such_file",
            )
        return path.read_bytes()

    def acknowledge(self, name: str) -> None:
        _check_name(name)
        self._trouble()
        path = self.outbox / name
        if path.is_file():
            os.replace(path, self._folder("taken") / name)

    def send_collections(self, day: dt.date, filename: str, content: bytes) -> Acknowledgement:
        _check_name(filename)
        self._trouble()
        if day.isoformat() not in filename:
            raise EstablishmentRefused(
                _("The file name %(name)s does not name the day %(day)s.")
                % {"name": filename, "day": day.isoformat()},
                code="wrong_day",
            )
        problem = check_collections_file(content)
        if problem:
            raise EstablishmentRefused(problem, code="bad_totals")
        receipts = self._folder("receipts")
        digest = hashlib.sha256(content).hexdigest()
        previous = _read_json(receipts / f"{day.isoformat()}.json")
        if previous and previous.get("sha256") == digest:
            return Acknowledgement(previous["reference"], previous["received_at"])
        ack = Acknowledgement(
            reference=f"WE-{day:%Y%m%d}-{digest[:10].upper()}",
            received_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            replaces=str(previous.get("reference", "")) if previous else "",
        )
        _write_atomically(self._folder("inbox") / filename, content)
        record = {"sha256": digest, "reference": ack.reference, "received_at": ack.received_at}
        _write_atomically(receipts / f"{day.isoformat()}.json", json.dumps(record).encode())
        return ack


def check_collections_file(content: bytes) -> str:
    """What a counterpart checks in a collections file: its header, that every line's
    amount is a whole number of piastres, and that the totals line (`TOTAL`, number of
    lines, …, sum of amounts, …, sum of overpayments) adds up. Returns "" when sound."""
    try:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        return str(_("The collections file is not UTF-8 CSV."))
    if not rows or tuple(rows[0]) != COLLECTIONS_HEADER:
        return str(_("The collections file does not start with the agreed header."))
    if len(rows) < 2 or rows[-1][:1] != [TOTAL_MARK]:
        return str(_("The collections file has no totals line."))
    lines, total = rows[1:-1], rows[-1]
    amount_at = COLLECTIONS_HEADER.index("amount_piastres")
    flag_at = COLLECTIONS_HEADER.index("overpayment")
    try:
        amounts = [int(r[amount_at]) for r in lines]
        overpaid = sum(int(r[amount_at]) for r in lines if r[flag_at] == "1")
        stated = (int(total[1]), int(total[amount_at]), int(total[flag_at]))
    except (ValueError, IndexError):
        return str(_("A line of the collections file has no whole amount."))
    if stated != (len(lines), sum(amounts), overpaid):
        return str(
            _("The totals line (%(stated)s) does not match the lines (%(counted)s).")
            % {"stated": stated, "counted": (len(lines), sum(amounts), overpaid)}
        )
    return ""


def _check_name(name: str) -> None:
    if not _SAFE_NAME.fullmatch(name or ""):
        raise EstablishmentRefused(_("Not a valid exchange file name."), code="bad_name")


def _read_json(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomically(path: Path, content: bytes) -> None:
    """Write then rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(content)
    os.replace(temporary, path)
