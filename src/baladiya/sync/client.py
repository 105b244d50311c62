"""The center node's side of sync: enrol, push the outbox, pull the change feed, heartbeat.

Push before pull: the center's own changes reach central (the arbiter, decision 0009) before
central's versions come down, and a pulled row that still has unsent local changes is left
alone (it comes back in a later pull if central disagreed).
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from baladiya import __version__
from baladiya.core import audit
from baladiya.core.errors import DomainError
from baladiya.core.models import Counter
from baladiya.documents import signing
from baladiya.sync import capture, protocol, registry
from baladiya.sync.models import OutboxEvent, SyncState

logger = logging.getLogger(__name__)
API = "/sync/v1"


class SyncUnavailable(DomainError):
    """The central node could not be reached or refused; nothing local was lost."""

    status = 503
    code = "sync_unavailable"


@dataclass(frozen=True)
class Reply:
    status: int
    data: dict[str, Any]


class Transport(Protocol):
    def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply: ...


class HttpTransport:
    """httpx over the network: compressed bodies, a timeout, no retries (the loop retries)."""

    def __init__(self, base_url: str, timeout: float | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.base_url, timeout=timeout or settings.SYNC_TIMEOUT_SECONDS
        )

    def send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            response = self.client.request(
                method,
                path,
                content=body or None,
                headers={"Content-Encoding": "gzip", "Accept-Encoding": "gzip", **headers}
                if body
                else {"Accept-Encoding": "gzip", **headers},
            )
        except httpx.HTTPError as exc:
            raise SyncUnavailable(
                _("The central node cannot be reached (%(error)s).") % {"error": exc}
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        return Reply(response.status_code, data if isinstance(data, dict) else {})


def state() -> SyncState:
    row, _created = SyncState.objects.get_or_create(pk=1)
    return row


def transport_for(sync_state: SyncState | None = None) -> HttpTransport:
    url = (sync_state or state()).central_url or settings.SYNC_CENTRAL_URL
    if not url:
        raise SyncUnavailable(_("This node is not enrolled: run `baladiya center enroll`."))
    return HttpTransport(url)


def _require_center() -> str:
    if not capture.is_center_node():
        raise DomainError(_("Only a center node (BALADIYA_NODE=center:CODE) syncs."))
    return str(settings.NODE_CENTER_CODE)


def _signed(method: str, path: str, body: bytes) -> dict[str, str]:
    key = signing.active_key()
    center = str(settings.NODE_CENTER_CODE)
    now = timezone.now().isoformat()
    message = protocol.signing_message(method, path, center, key.key_id, now, body)
    _key_id, signature = signing.sign(message, key)
    return protocol.SignedHeaders(center, key.key_id, now, signing.b64encode(signature)).as_dict()


def _call(transport: Transport, method: str, path: str, payload: Any = None) -> Reply:
    body = protocol.encode_body(payload) if payload is not None else b""
    return _send(transport, method, path, body)


def _send(transport: Transport, method: str, path: str, body: bytes) -> Reply:
    reply = transport.send(method, path, body, _signed(method, path, body))
    if reply.status >= 500:
        raise SyncUnavailable(
            _("The central node failed (%(status)s); it will be retried.")
            % {"status": reply.status}
        )
    return reply


def _refused(reply: Reply) -> SyncUnavailable:
    message = str(reply.data.get("message") or reply.status)
    return SyncUnavailable(_("The central node refused: %(message)s") % {"message": message})


# ---------------------------------------------------------------- enrolment


def enroll(central_url: str, code: str, transport: Transport | None = None) -> dict[str, Any]:
    """Enrol this PC as its center's node with a one-time code from the central admin."""
    center = _require_center()
    current = state()
    if current.enrolled_at is not None:
        raise DomainError(
            _("This node is already enrolled (%(url)s).") % {"url": current.central_url}
        )
    key = signing.active_key()
    message = f"enrol\n{center}\n{code.strip()}".encode()
    _key_id, proof = signing.sign(message, key)
    payload = {
        "center": center,
        "key_id": key.key_id,
        "key_pk": str(key.pk),
        "public_key": key.public_key,
        "proof": signing.b64encode(proof),
        "proof_message": message.decode(),
    }
    transport = transport or HttpTransport(central_url)
    reply = transport.send("POST", f"{API}/enrol", protocol.encode_body(payload), {})
    if reply.status != 200:
        raise _refused(reply)
    package = reply.data
    with transaction.atomic():
        _take_counters(package.get("counters") or [])
        _renumber_outbox(int(package.get("last_seq") or 0))
        current.central_url = central_url.rstrip("/")
        current.enrolled_at = timezone.now()
        current.cursor = 0
        current.save()
        audit.record("sync.enrolled", actor=None, center=center, central=current.central_url)
    return package


def _take_counters(counters: list[dict[str, Any]]) -> None:
    """The center's number series from central (one writer from now on: this node)."""
    for item in counters:
        row, _created = Counter.objects.select_for_update().get_or_create(
            scope=item["scope"], kind=item["kind"], year=int(item["year"])
        )
        if int(item["value"]) > row.value:
            row.value = int(item["value"])
            row.save(update_fields=["value"])


def _renumber_outbox(last_seq: int) -> None:
    """Events made before enrolment (the key's creation) follow on from what central has
    applied for this center (a replacement PC continues its predecessor's sequence)."""
    if last_seq <= 0:
        return
    for event in OutboxEvent.objects.filter(sent_at=None).order_by("-seq"):
        OutboxEvent.objects.filter(seq=event.seq).update(seq=F("seq") + last_seq)
    counter, _created = Counter.objects.select_for_update().get_or_create(
        scope="sync", kind="outbox", year=0
    )
    counter.value += last_seq
    counter.save(update_fields=["value"])


# ---------------------------------------------------------------- push


@dataclass
class PushResult:
    sent: int = 0
    batches: int = 0
    conflicts: int = 0


def backlog() -> int:
    return OutboxEvent.objects.filter(sent_at=None).count()


@dataclass(frozen=True)
class _Batch:
    first: int
    last: int
    body: bytes  # signed as it is sent


def _prepare(after: int, size: int) -> _Batch | None:
    """The next batch after event `after`: at most `size` events and about
    `SYNC_BATCH_BYTES` of JSON (a day's documents are megabytes: a batch must still cross a
    slow link within the timeout), trimmed to last snapshots, compressed."""
    rows = list(OutboxEvent.objects.filter(sent_at=None, seq__gt=after).order_by("seq")[:size])
    if not rows:
        return None
    cap = settings.SYNC_BATCH_BYTES
    encoded: list[tuple[OutboxEvent, str]] = []
    total = 0
    for event in rows:
        text = json.dumps(_wire(event), ensure_ascii=False, separators=(",", ":"))
        if encoded and total + len(text) > cap:
            break
        encoded.append((event, text))
        total += len(text)
    batch = [event for event, _text in encoded]
    kept = {event.seq for event in _latest_snapshots(batch)}
    events = ",".join(text for event, text in encoded if event.seq in kept)
    body = f'{{"first_seq":{batch[0].seq},"last_seq":{batch[-1].seq},"events":[{events}]}}'
    return _Batch(batch[0].seq, batch[-1].seq, gzip.compress(body.encode("utf-8"), 6))


def _prepare_aside(after: int, size: int) -> _Batch | None:
    """`_prepare` in a helper thread (its own database connection, closed after)."""
    try:
        return _prepare(after, size)
    finally:
        connection.close()


def push(
    transport: Transport,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> PushResult:
    """Send every unsent event, in order, in batches. Stops at the first refusal.

    While central applies one batch, the next is read and compressed in a helper thread
    (the two halves of the work then use both cores). Not inside a transaction (tests): a
    second connection would not see its rows, so there it runs one batch after the other."""
    size = batch_size or settings.SYNC_BATCH_SIZE
    result = PushResult()
    aside = ThreadPoolExecutor(1) if not connection.in_atomic_block else None
    try:
        batch = _prepare(0, size)
        while batch is not None:
            upcoming = aside.submit(_prepare_aside, batch.last, size) if aside else None
            reply = _send(transport, "POST", f"{API}/push", batch.body)
            if reply.status == 409 and reply.data.get("code") == "sync_gap":
                if upcoming is not None:
                    upcoming.result()
                _resend_from(int(reply.data.get("expected", 0)))
                batch = _prepare(0, size)
                continue
            if reply.status != 200:
                raise _refused(reply)
            through = int(reply.data["applied_through"])
            now = timezone.now()
            done = OutboxEvent.objects.filter(seq__lte=through, sent_at=None).update(sent_at=now)
            SyncState.objects.filter(pk=1).update(last_push_at=now)
            result.sent += done
            result.batches += 1
            result.conflicts += int(reply.data.get("conflicts", 0))
            if progress:
                progress(done)
            nxt = upcoming.result() if upcoming is not None else _prepare(batch.last, size)
            if done == 0 or through < batch.last:
                # Central is not where we thought: start again from what is unsent.
                nxt = _prepare(0, size) if done else None
            batch = nxt
        return result
    finally:
        if aside is not None:
            aside.shutdown(wait=True)


def _latest_snapshots(batch: list[OutboxEvent]) -> list[OutboxEvent]:
    """The batch without snapshots of a row that a later event in the same batch replaces
    (an application saved at each of its six steps travels once). Central applies the last
    state; the batch's range (first..last) still accounts for every number."""
    last: dict[tuple[str, str], int] = {}
    for event in batch:
        if event.op == "upsert":
            last[(event.model, event.object_id)] = event.seq
    return [e for e in batch if e.op != "upsert" or last[(e.model, e.object_id)] == e.seq]


def _wire(event: OutboxEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "event_id": str(event.event_id),
        "model": event.model,
        "object_id": event.object_id,
        "op": event.op,
        "data": event.data,
        "at": event.created_at.isoformat(),
    }


def _resend_from(expected: int) -> None:
    """Central lacks events from `expected` on that we marked sent (a restore from backup):
    send them again."""
    if expected <= 0:
        raise SyncUnavailable(_("The central node reported a gap without a position."))
    OutboxEvent.objects.filter(seq__gte=expected).update(sent_at=None)
    if not OutboxEvent.objects.filter(seq=expected).exists():
        raise SyncUnavailable(
            _("Event %(seq)s is missing on this node; ask the directorate.") % {"seq": expected}
        )


# ---------------------------------------------------------------- pull


@dataclass
class PullResult:
    rows: int = 0
    skipped: int = 0
    pages: int = 0


def pull(transport: Transport, progress: Callable[[int], None] | None = None) -> PullResult:
    result = PullResult()
    while True:
        cursor = state().cursor
        reply = _call(transport, "GET", f"{API}/changes?cursor={cursor}")
        if reply.status == 425:
            raise SyncUnavailable(
                _("The central node is not ready for a first pull yet."), code="not_ready"
            )
        if reply.status != 200:
            raise _refused(reply)
        applied, skipped = apply_pulled(reply.data)
        result.rows += applied
        result.skipped += skipped
        result.pages += 1
        if progress:
            progress(applied)
        if not reply.data.get("more"):
            return result


def apply_pulled(page: dict[str, Any]) -> tuple[int, int]:
    """Upsert central's rows in one transaction, without capturing them again."""
    pending = set(OutboxEvent.objects.filter(sent_at=None).values_list("model", "object_id"))
    by_model: dict[str, list[Any]] = defaultdict(list)
    m2m: list[tuple[Any, dict[str, list[Any]]]] = []
    groups: list[tuple[Any, list[str]]] = []
    skipped = 0
    for row in page.get("rows") or []:
        label = row.get("model")
        if label not in registry.PULL or (label, str(row.get("pk"))) in pending:
            skipped += 1
            continue
        obj, many = registry.deserialize(row)
        by_model[label].append(obj)
        if many:
            m2m.append((obj, many))
        if "group_names" in row:
            groups.append((obj, list(row["group_names"])))
    with transaction.atomic(), capture.applying_remote():
        for label in registry.PULL:
            registry.upsert(registry.model_of(label), by_model.get(label, []))
        for obj, many in m2m:
            for name, ids in many.items():
                getattr(obj, name).set(ids)
        for obj, names in groups:
            _set_groups(obj, names)
        for gone in page.get("deletes") or []:
            if gone.get("model") in registry.PULL:
                model = registry.model_of(gone["model"])
                model._base_manager.filter(pk=gone.get("pk")).delete()
        SyncState.objects.filter(pk=1).update(
            cursor=int(page.get("cursor") or 0), last_pull_at=timezone.now()
        )
    return sum(len(v) for v in by_model.values()), skipped


def _set_groups(user: Any, names: list[str]) -> None:
    from django.contrib.auth.models import Group

    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])


# ---------------------------------------------------------------- heartbeat and rounds


def power_source() -> str:
    """What powers the PC now: the UPS/solar controller's file, else the center's setting."""
    path = settings.POWER_SOURCE_FILE
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip().lower()
        except OSError:
            value = ""
        if value in ("grid", "solar", "generator", "battery"):
            return value
    from baladiya.centers.models import Center

    center = Center.objects.filter(code=settings.NODE_CENTER_CODE).first()
    return center.power_source if center else "grid"


def heartbeat(transport: Transport) -> None:
    current = state()
    report = {
        "power_source": power_source(),
        "outbox_backlog": backlog(),
        "last_sync_at": current.last_ok_at.isoformat() if current.last_ok_at else None,
        "version": __version__,
        "reported_at": timezone.now().isoformat(),
    }
    reply = _call(transport, "POST", f"{API}/heartbeat", report)
    if reply.status != 200:
        raise _refused(reply)


@dataclass
class RoundResult:
    pushed: PushResult
    pulled: PullResult


def sync_once(
    transport: Transport | None = None,
    on_push: Callable[[int], None] | None = None,
    on_pull: Callable[[int], None] | None = None,
) -> RoundResult:
    """One full round: heartbeat, push everything, pull everything. Records the outcome."""
    _require_center()
    current = state()
    if current.enrolled_at is None:
        raise SyncUnavailable(_("This node is not enrolled: run `baladiya center enroll`."))
    transport = transport or transport_for(current)
    try:
        heartbeat(transport)
        pushed = push(transport, progress=on_push)
        pulled = pull(transport, progress=on_pull)
    except DomainError as exc:
        SyncState.objects.filter(pk=1).update(
            failures=F("failures") + 1, last_error=str(exc.message)[:300]
        )
        raise
    SyncState.objects.filter(pk=1).update(failures=0, last_error="", last_ok_at=timezone.now())
    return RoundResult(pushed, pulled)


def next_delay(failures: int) -> float:
    """Seconds to the next round: the interval while it works; after failures, exponential
    backoff with jitter (so twelve centers coming back together do not hit central at once)."""
    if failures <= 0:
        return float(settings.SYNC_INTERVAL_SECONDS)
    base = min(settings.SYNC_MAX_BACKOFF_SECONDS, 2.0 ** min(failures, 16))
    return float(base * random.uniform(0.5, 1.0))


def run_forever(stop: threading.Event, between: Callable[[], None] | None = None) -> None:
    """The background loop of a center node (started by `baladiya run`); `between` runs after
    each round (the periodic jobs)."""
    while not stop.is_set():
        try:
            sync_once()
        except DomainError as exc:
            logger.warning("sync: %s", exc.message)
        except Exception:
            logger.exception("sync round failed")
            SyncState.objects.filter(pk=1).update(failures=F("failures") + 1)
        if between is not None:
            between()
        stop.wait(next_delay(state().failures))
