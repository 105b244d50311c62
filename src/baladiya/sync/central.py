"""The central node's side of sync: enrolment, applying pushed batches, the change feed.

Rules: decision 0009. Every write here is one transaction with its audit event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from baladiya.accounts import roles
from baladiya.accounts.permissions import require_role
from baladiya.applications.workflow import TRANSITIONS
from baladiya.centers.models import Center
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed, NotFound
from baladiya.core.models import AuditEvent, Counter
from baladiya.core.storage import one_flush_for_many
from baladiya.core.text import join_list
from baladiya.documents import signing
from baladiya.documents.models import SigningKey
from baladiya.sync import capture, protocol, registry
from baladiya.sync.models import (
    CenterAuditEvent,
    CenterCounter,
    CenterNode,
    Change,
    CitizenAlias,
    EnrolmentCode,
    InboundEvent,
    SyncConflict,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone
REPLACEMENT_JUMP = 1000  # numbers skipped when a lost PC is replaced (decision 0009)
NODE_VALIDITY = dt.timedelta(days=3 * 365)
CENTER_ROLES = frozenset({roles.CLERK, roles.CASHIER, roles.SUPERVISOR})


class GapError(Conflict):
    """A batch that starts after a missing event: nothing applied; resend from `expected`."""

    code = "sync_gap"

    def __init__(self, expected: int) -> None:
        super().__init__(_("Events are missing: resend from number %(seq)s.") % {"seq": expected})
        self.expected = expected


# ---------------------------------------------------------------- enrolment


def _code_hash(code: str) -> str:
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def create_enrolment_code(center_code: str, actor: Any, hours: int = 24) -> str:
    """A one-time code (shown once; only its hash is kept) to enrol a center's PC."""
    if capture.is_center_node():
        raise DomainError(_("Enrolment codes are made on the central node."))
    center = Center.objects.filter(code=center_code).first()
    if center is None or center.kind == Center.Kind.ELECTRONIC:
        raise NotFound(_("No such service center: %(code)s.") % {"code": center_code})
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    with transaction.atomic():
        row = EnrolmentCode.objects.create(
            center=center,
            code_sha256=_code_hash(code),
            expires_at=timezone.now() + dt.timedelta(hours=hours),
            created_by=audit._actor_name(actor),
        )
        audit.record(
            "sync.enrolment_code_created",
            actor=actor,
            obj=row,
            center=center.code,
            expires_at=row.expires_at.isoformat(),
        )
    return code


@dataclass(frozen=True)
class Enrolment:
    center: str
    key_id: str
    key_pk: str
    public_key: str
    proof: bytes  # the node's signature of `proof_message`, showing it holds the key
    proof_message: bytes


def enrol(request: Enrolment) -> dict[str, Any]:
    """Register a center's PC: check the one-time code, register its key, hand over its
    number series (decision 0002), revoke a node it replaces. Returns the package."""
    try:
        public = signing.b64decode(request.public_key)
    except ValueError as exc:
        raise DomainError(_("The node's public key is not valid.")) from exc
    if len(public) != 32 or not signing.verify(public, request.proof, request.proof_message):
        raise NotAllowed(_("The node could not prove it holds its key."))
    if not request.key_id.startswith(f"{request.center}-"):
        raise DomainError(_("The key id must start with the center code."))
    now = timezone.now()
    with transaction.atomic():
        code = (
            EnrolmentCode.objects.select_for_update()
            .filter(code_sha256=_code_hash(_code_from(request)))
            .select_related("center")
            .first()
        )
        invalid = NotAllowed(_("This enrolment code is not valid (wrong, used or expired)."))
        if code is None or code.center.code != request.center:
            raise invalid  # one message for every case: no hint about which codes exist
        center = code.center
        previous = CenterNode.objects.select_for_update().filter(center=center).first()
        if previous is not None and _same_enrolment(previous, code, request):
            # This PC was enrolled with this code, but the answer was lost (a cut link): the
            # same command again gets the same package and changes nothing.
            return _package(previous, _counters_handed_over(previous))
        if code.used_at is not None or code.expires_at <= now:
            raise invalid
        if SigningKey.objects.filter(
            Q(key_id=request.key_id) | Q(pk=request.key_pk) | Q(public_key=request.public_key)
        ).exists():
            # A PC that was enrolled (or revoked) before, trying again with its old key: a
            # new enrolment needs a new key, or the same command with the code it first used.
            raise Conflict(
                _(
                    "This PC's key is already registered. Repeat the enrolment with the code "
                    "it first used, or start from an empty node folder (a new key)."
                ),
                code="key_registered",
            )
        code.used_at = now
        code.save(update_fields=["used_at"])
        if previous is not None:  # the lost PC's keys first, not the new one made below
            _retire_node(previous, now, _("replaced by a new PC"))
        key = SigningKey.objects.create(
            id=request.key_pk,  # the node's own row id: its later pushes of the key match
            key_id=request.key_id,
            node=f"center:{center.code}",
            public_key=request.public_key,
            valid_from=now,
            active=True,
        )
        jump = 0
        if previous is not None:
            jump = REPLACEMENT_JUMP
            previous.key = key
            previous.enrolled_at, previous.valid_until = now, now + NODE_VALIDITY
            previous.revoked_at, previous.revoked_reason = None, ""
            previous.cursor = 0
            previous.save()
            node = previous
        else:
            node = CenterNode.objects.create(
                center=center, key=key, enrolled_at=now, valid_until=now + NODE_VALIDITY
            )
        counters = _handover_counters(center.code, jump)
        audit.record(
            "sync.node_enrolled",
            actor=f"node:{center.code}",
            obj=node,
            center=center.code,
            key_id=key.key_id,
            replaced=previous is not None,
            counters=counters,
            jump=jump,
        )
    capture.forget_enrolled_cache()
    return _package(node, counters)


def _package(node: CenterNode, counters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "center": node.center.code,
        "enrolled_at": node.enrolled_at.isoformat(),
        "valid_until": node.valid_until.isoformat(),
        "last_seq": node.last_seq,
        "counters": counters,
    }


def _same_enrolment(node: CenterNode, code: EnrolmentCode, request: Enrolment) -> bool:
    """The node was enrolled with this code and this very key (its proof was checked)."""
    return (
        node.revoked_at is None
        and code.used_at == node.enrolled_at
        and node.key.key_id == request.key_id
        and node.key.public_key == request.public_key
    )


def _counters_handed_over(node: CenterNode) -> list[dict[str, Any]]:
    """The counters of the node's enrolment package, as recorded then (a replacement PC's
    jump included): recomputing them now could hand out lower numbers."""
    event = (
        AuditEvent.objects.filter(action="sync.node_enrolled", object_id=str(node.pk))
        .order_by("-seq")
        .first()
    )
    if event is None or not isinstance(event.data.get("counters"), list):
        return _handover_counters(node.center.code, 0)
    return list(event.data["counters"])


def _code_from(request: Enrolment) -> str:
    # The code travels inside the signed proof message: "enrol\n<center>\n<code>".
    parts = request.proof_message.decode("utf-8", "replace").split("\n")
    return parts[2] if len(parts) == 3 and parts[0] == "enrol" else ""


def _handover_counters(center_code: str, jump: int) -> list[dict[str, Any]]:
    """The center's number series as central knows them (its own counters and the highest
    values the node pushed), plus `jump` for a replacement PC. Central stops numbering in
    these series from now on (`guard_series`)."""
    values: dict[tuple[str, int], int] = {}
    for kind, year, value in Counter.objects.filter(scope=center_code).values_list(
        "kind", "year", "value"
    ):
        values[(kind, year)] = value
    for kind, year, value in CenterCounter.objects.filter(
        center=center_code, scope=center_code
    ).values_list("kind", "year", "value"):
        values[(kind, year)] = max(values.get((kind, year), 0), value)
    return [
        {"scope": center_code, "kind": kind, "year": year, "value": value + jump}
        for (kind, year), value in sorted(values.items())
    ]


def guard_series(scope: str) -> None:
    """Central must not number in an enrolled center's series: the node is its only writer."""
    if capture.is_center_node() or scope in ("C00", "sync", "audit"):
        return
    if scope in capture.enrolled_center_codes():  # cached: this runs for every number taken
        raise Conflict(
            _(
                "Center %(code)s runs its own node: its numbers are given there, not on the "
                "central node."
            )
            % {"code": scope}
        )


def _retire_node(node: CenterNode, when: dt.datetime, reason: str) -> None:
    SigningKey.objects.filter(node=f"center:{node.center.code}", revoked_at=None).update(
        revoked_at=when, active=False
    )
    capture.rows_changed(
        SigningKey,
        SigningKey.objects.filter(node=f"center:{node.center.code}").values_list("pk", flat=True),
    )


def revoke_node(center_code: str, actor: Any, reason: str) -> CenterNode:
    """A stolen or burnt PC: its key stops being accepted and stops verifying new documents."""
    if not isinstance(actor, str):  # a person (the page); the CLI acts as the server's operator
        require_role(actor, roles.ADMIN)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason for revoking the node."))
    with transaction.atomic():
        node = (
            CenterNode.objects.select_for_update()
            .select_related("center")
            .filter(center__code=center_code)
            .first()
        )
        if node is None:
            raise NotFound(_("Center %(code)s has no enrolled node.") % {"code": center_code})
        if node.revoked_at is not None:
            raise Conflict(_("This node is already revoked."))
        now = timezone.now()
        _retire_node(node, now, reason)
        node.revoked_at, node.revoked_reason = now, reason[:200]
        node.save(update_fields=["revoked_at", "revoked_reason"])
        audit.record("sync.node_revoked", actor=actor, obj=node, center=center_code, reason=reason)
    capture.forget_enrolled_cache()
    return node


# ---------------------------------------------------------------- authentication


def authenticate(method: str, path: str, headers: dict[str, str], body: bytes) -> CenterNode:
    """The enrolled, unrevoked node that signed this request, or NotAllowed."""
    center = headers.get("X-Baladiya-Center", "")
    key_id = headers.get("X-Baladiya-Key", "")
    time = headers.get("X-Baladiya-Time", "")
    try:
        signature = signing.b64decode(headers.get("X-Baladiya-Signature", ""))
    except ValueError:
        signature = b""
    refused = NotAllowed(_("This request is not signed by an enrolled center node."))
    node = CenterNode.objects.select_related("center").filter(center__code=center).first()
    if node is None or not signature or node.revoked_at is not None:
        raise refused
    key = SigningKey.objects.filter(key_id=key_id, node=f"center:{center}", revoked_at=None).first()
    if key is None or node.valid_until <= timezone.now():
        raise refused
    message = protocol.signing_message(method, path, center, key_id, time, body)
    if not signing.verify(signing.b64decode(key.public_key), signature, message):
        raise refused
    return node


# ---------------------------------------------------------------- applying a batch


@dataclass
class ApplyResult:
    applied_through: int
    applied: int = 0
    duplicates: int = 0
    conflicts: int = 0


def apply_batch(
    node: CenterNode,
    events: Any,  # checked by `_check_shape`: it comes off the wire
    first_seq: int | None = None,
    last_seq: int | None = None,
) -> ApplyResult:
    """Apply a center's events exactly once, in order, all or nothing (decision 0009).

    A batch covers the numbers `first_seq..last_seq`. Without the range, every number in it
    is an event. With it, the node left out events superseded inside the batch (an earlier
    snapshot of a row sent again later in the same batch): the range still has no hole,
    which is what matters for "nothing lost"."""
    first, last = _check_shape(events, first_seq, last_seq)
    received = timezone.now()
    try:
        with _server_side_binding(), transaction.atomic():
            locked = CenterNode.objects.select_for_update().select_related("center").get(pk=node.pk)
            fresh = [e for e in events if e["seq"] > locked.last_seq]
            result = ApplyResult(locked.last_seq, duplicates=len(events) - len(fresh))
            if last <= locked.last_seq:
                return result
            if first > locked.last_seq + 1:  # a hole between what was applied and this batch
                raise GapError(locked.last_seq + 1)
            applier = _BatchApplier(locked.center, received)
            applier.preload(fresh)
            for event in sorted(fresh, key=_parents_first):
                applier.add(event)
            applier.flush()
            registry.insert_many(
                InboundEvent,
                (
                    InboundEvent(
                        event_id=e["event_id"],
                        center=locked.center.code,
                        seq=e["seq"],
                        model=e["model"][:60],
                        object_id=str(e["object_id"])[:64],
                        op=e["op"],
                        received_at=received,
                        outcome="conflict" if e["seq"] in applier.conflicted else "applied",
                    )
                    for e in fresh
                ),
            )
            applied_from = locked.last_seq + 1
            locked.last_seq = last
            locked.last_push_at = received
            locked.save(update_fields=["last_seq", "last_push_at"])
            audit.record(
                "sync.batch_applied",
                actor=f"node:{locked.center.code}",
                obj=locked,
                center=locked.center.code,
                first=applied_from,
                last=last,
                events=len(fresh),
                conflicts=len(applier.conflicted),
            )
            result.applied_through = locked.last_seq
            result.applied = len(fresh) - len(applier.conflicted)
            result.conflicts = len(applier.conflicted)
            return result
    except IntegrityError as exc:
        # E.g. an event id seen before under another number, or a row naming a record that
        # does not exist here: nothing of the batch stays.
        raise DomainError(
            _("The batch could not be applied (%(error)s); nothing was changed.")
            % {"error": str(exc)[:200]},
            code="sync_rejected",
        ) from exc


@contextlib.contextmanager
def _server_side_binding() -> Iterator[None]:
    """PostgreSQL: send this batch's parameters apart from the SQL (psycopg's server-side
    binding) instead of spelling them into it, as Django does by default: a batch carries
    megabytes of document PDFs, which client-side binding turns into hex text first (~15 %
    of the time applying a batch). Only for these plain INSERTs and SELECTs; the rest of the
    system keeps Django's default."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
        ServerBindingCursor,
    )

    connection.ensure_connection()
    raw = connection.connection
    previous = raw.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    try:
        yield
    finally:
        raw.cursor_factory = previous


def _parents_first(event: dict[str, Any]) -> int:
    """Citizens, then applications, then the rest, each in sequence order (a stable sort): a
    merged citizen's alias and an application's state must be known before the rows that name
    them; a batch carries only a row's last snapshot, which may come after its history rows."""
    return {"accounts.citizen": 0, "applications.application": 1}.get(event["model"], 2)


def _check_shape(events: Any, first: Any, last: Any) -> tuple[int, int]:
    """The batch's range: given, or that of its events (then it must have no hole)."""
    bad = DomainError(_("The batch is not well formed."), code="sync_malformed")
    if not isinstance(events, list) or not events:
        raise bad
    _check_events(events, bad)
    seqs = [e["seq"] for e in events]
    if first is None and last is None:
        if seqs[-1] - seqs[0] + 1 != len(seqs):
            raise bad
        return seqs[0], seqs[-1]
    if not isinstance(first, int) or not isinstance(last, int):
        raise bad
    if not (0 < first <= seqs[0] and seqs[-1] == last):  # the last event is never superseded
        raise bad
    return first, last


def _check_events(events: list[Any], bad: DomainError) -> None:
    previous = 0
    for event in events:
        if not isinstance(event, dict):
            raise bad
        seq, op = event.get("seq"), event.get("op")
        if not isinstance(seq, int) or seq <= previous or op not in ("upsert", "delete", "request"):
            raise bad
        if not isinstance(event.get("event_id"), str) or not isinstance(event.get("data"), dict):
            raise bad
        if not isinstance(event.get("model"), str) or "object_id" not in event:
            raise bad
        previous = seq


@dataclass
class _AppState:
    status: str
    center_id: Any
    pickup_center_id: Any
    exists: bool


@dataclass
class _BatchApplier:
    """Validates events one by one against the state as it evolves through the batch, and
    writes the last accepted snapshot of each row in bulk at the end (fast: one statement
    per model and 500 rows)."""

    center: Center
    received: dt.datetime
    rows: dict[str, dict[str, models.Model]] = field(default_factory=lambda: defaultdict(dict))
    files: list[tuple[models.Model, dict[str, Any]]] = field(default_factory=list)
    audit_rows: list[CenterAuditEvent] = field(default_factory=list)
    counters: dict[tuple[str, str, int], int] = field(default_factory=dict)
    relay: list[models.Model] = field(default_factory=list)
    conflicted: set[int] = field(default_factory=set)
    conflicts: list[SyncConflict] = field(default_factory=list)
    apps: dict[str, _AppState] = field(default_factory=dict)
    known_apps: set[str] = field(default_factory=set)  # looked up by `preload`
    aliases: dict[str, Any] = field(default_factory=dict)
    feed: list[tuple[str, str]] = field(default_factory=list)
    revoked_documents: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Applied, and listed for a person all the same (an overpayment to refund).
    flags: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    # ------------------------------------------------------------ intake

    def add(self, event: dict[str, Any]) -> None:
        op, label = event["op"], event["model"]
        if op == "request":
            if label == "documents.revoke":
                self.requests.append(event)  # carried out after the batch's rows are written
            else:
                self._conflict(event, _("A request for the central node awaits a person."))
            return
        rule = registry.PUSH.get(label)
        if rule is None or op == "delete":
            self._conflict(event, _("Centers may not change this kind of record."))
            return
        if rule.kind == registry.AUDIT:  # nearly half of all events: no model round trip
            reason = self._add_audit_row(event)
            if reason:
                self._conflict(event, reason)
            return
        try:
            obj, _m2m = registry.deserialize(event["data"])
        except Exception:
            self._conflict(event, _("The record could not be read."))
            return
        if str(obj.pk) != str(event["object_id"]) or registry.label_of(type(obj)) != label:
            self._conflict(event, _("The record does not match its event."))
            return
        handler = getattr(self, f"_add_{rule.kind}")
        reason = handler(obj, event)
        if reason:
            self._conflict(event, reason)

    def preload(self, events: list[dict[str, Any]]) -> None:
        """What the rules look up, for the whole batch in a few queries (not one per event):
        the applications it names, citizen aliases, revoked documents."""
        from baladiya.applications.models import Application
        from baladiya.documents.models import IssuedDocument

        app_ids: set[str] = set()
        citizen_ids: set[str] = set()
        doc_ids: set[str] = set()
        for event in events:
            fields = event["data"].get("fields") if isinstance(event.get("data"), dict) else None
            if not isinstance(fields, dict):
                continue
            label = event["model"]
            if label == "applications.application":
                app_ids.add(str(event["object_id"]))
                citizen_ids.add(str(fields.get("applicant")))
            elif label == "documents.issueddocument":
                doc_ids.add(str(event["object_id"]))
            if fields.get("application"):
                app_ids.add(str(fields["application"]))
        for row in Application.objects.filter(pk__in=app_ids).values(
            "id", "status", "center_id", "pickup_center_id"
        ):
            self.apps[str(row["id"])] = _AppState(
                row["status"], row["center_id"], row["pickup_center_id"], True
            )
        self.known_apps = app_ids
        for alias, kept in CitizenAlias.objects.filter(alias_id__in=citizen_ids).values_list(
            "alias_id", "citizen_id"
        ):
            self.aliases[str(alias)] = kept
        self.revoked_documents = {
            str(pk)
            for pk in IssuedDocument.objects.filter(pk__in=doc_ids, state="revoked").values_list(
                "pk", flat=True
            )
        }

    def _conflict(self, event: dict[str, Any], reason: str) -> None:
        self.conflicted.add(event["seq"])
        self.conflicts.append(
            SyncConflict(
                center=self.center.code,
                seq=event["seq"],
                model=str(event["model"])[:60],
                object_id=str(event["object_id"])[:64],
                reason=str(reason)[:300],
                pushed=event.get("data") if isinstance(event.get("data"), dict) else {},
            )
        )
        if event["model"] in registry.PULL:
            # Central's version goes back down on the next pull.
            self.feed.append((event["model"], str(event["object_id"])))

    def _keep(self, obj: models.Model, event: dict[str, Any]) -> None:
        self.rows[registry.label_of(type(obj))][str(obj.pk)] = obj
        if event["data"].get("files"):
            self.files.append((obj, event["data"]))

    # ------------------------------------------------------------ rules per kind

    def _app_state(self, app_id: str) -> _AppState | None:
        if app_id not in self.apps and app_id not in self.known_apps:
            from baladiya.applications.models import Application

            row = (
                Application.objects.filter(pk=app_id)
                .values("status", "center_id", "pickup_center_id")
                .first()
            )
            if row is None:
                return None
            self.apps[app_id] = _AppState(
                row["status"], row["center_id"], row["pickup_center_id"], True
            )
        return self.apps.get(app_id)

    def _add_owned(self, obj: models.Model, event: dict[str, Any]) -> str:
        label = event["model"]
        if label == "applications.application":
            return self._add_application(obj, event)
        if getattr(obj, "center_id", None) != self.center.pk:
            return _("The record belongs to another center.")
        revoked_here = str(obj.pk) in self.revoked_documents
        if revoked_here and obj.state != "revoked":  # type: ignore[attr-defined]
            return _("The document was revoked centrally; the revocation stands.")
        self._keep(obj, event)
        self._feed_if_shared(label, obj)
        return ""

    def _add_application(self, obj: Any, event: dict[str, Any]) -> str:
        app_id = str(obj.pk)
        obj.applicant_id = self._citizen_id(obj.applicant_id)
        state = self._app_state(app_id)
        if state is None:
            if obj.center_id != self.center.pk:
                return _("The application belongs to another center.")
            self.apps[app_id] = _AppState(obj.status, obj.center_id, obj.pickup_center_id, False)
            self._keep(obj, event)
            self._feed_if_shared(event["model"], obj)
            return ""
        if obj.status == state.status:
            if state.center_id != self.center.pk:
                return _("Only the application's own center may change it.")
        elif not self._center_may_move(state, obj.status):
            return _(
                "The application is %(now)s on the central node; the center's change to "
                "%(new)s was not applied."
            ) % {"now": state.status, "new": obj.status}
        if obj.center_id != state.center_id:
            return _("An application cannot move to another center.")
        state.status, state.pickup_center_id = obj.status, obj.pickup_center_id
        self._keep(obj, event)
        self._feed_if_shared(event["model"], obj)
        return ""

    def _center_may_move(self, state: _AppState, target: str) -> bool:
        """Could the center's staff have taken the application from its state here to
        `target`, step by step (a batch carries only the last of several snapshots)? Their
        own application's counter steps, or the hand-over of one routed to them for pickup."""
        seen, frontier = {state.status}, [state.status]
        while frontier:
            status = frontier.pop()
            for step in TRANSITIONS.values():
                if status not in step.source or step.target in seen:
                    continue
                if not self._center_takes(step.name, step.roles, state):
                    continue
                if step.target == target:
                    return True
                seen.add(step.target)
                frontier.append(step.target)
        return False

    def _center_takes(self, name: str, who: frozenset[str], state: _AppState) -> bool:
        if not who & CENTER_ROLES:
            return False
        if name == "hand_over":
            return bool(state.pickup_center_id == self.center.pk)
        return bool(state.center_id == self.center.pk)

    def _add_child(self, obj: Any, event: dict[str, Any]) -> str:
        state = self._app_state(str(obj.application_id))
        if state is None:
            return _("The application it belongs to is unknown here.")
        if self.center.pk not in (state.center_id, state.pickup_center_id):
            return _("The application belongs to another center.")
        self._keep(obj, event)
        self._feed_if_shared(event["model"], obj)
        return ""

    def _citizen_id(self, citizen_id: Any) -> Any:
        return self.aliases.get(str(citizen_id), citizen_id)

    def _add_citizen(self, obj: Any, event: dict[str, Any]) -> str:
        from baladiya.accounts.models import Citizen

        pending: dict[str, Any] = self.rows["accounts.citizen"]
        kept: Any = (
            next((c for c in pending.values() if c.national_number == obj.national_number), None)
            or Citizen.objects.filter(national_number=obj.national_number).first()
        )
        if kept is None or str(kept.pk) == str(obj.pk):
            self._keep(obj, event)
            return ""
        # Registered twice offline: keep the first id, merge the later one into it.
        self.aliases[str(obj.pk)] = kept.pk
        CitizenAlias.objects.get_or_create(
            alias_id=obj.pk, defaults={"citizen_id": kept.pk, "center": self.center.code}
        )
        identity = ("first_name", "father_name", "last_name", "mother_name", "birth_date")
        differs = [f for f in identity if getattr(kept, f) != getattr(obj, f)]
        kept.phone = obj.phone or kept.phone
        self._keep(kept, {"data": {}})
        if differs:
            return _(
                "The same national number was registered with different %(fields)s; the "
                "records were merged, please check them."
            ) % {"fields": join_list(differs)}
        return ""

    def _add_key(self, obj: Any, event: dict[str, Any]) -> str:
        if obj.node != f"center:{self.center.code}" or not obj.key_id.startswith(
            f"{self.center.code}-"
        ):
            return _("A node may only register its own keys.")
        current = SigningKey.objects.filter(pk=obj.pk).values("revoked_at").first()
        if current and current["revoked_at"] and not obj.revoked_at:
            return _("The key was revoked centrally; the revocation stands.")
        self._keep(obj, event)
        return ""

    def _add_audit_row(self, event: dict[str, Any]) -> str:
        """The center's audit event, kept as it was written there (its hash covers it)."""
        fields = event["data"].get("fields")
        try:
            at = parse_datetime(str(fields["at"]))
            if at is None:
                return _("The record could not be read.")
            row = CenterAuditEvent(
                center=self.center.code,
                seq=int(fields["seq"]),
                event_id=uuid.UUID(str(fields["event_id"])),
                at=at,
                actor=str(fields.get("actor", ""))[:150],
                action=str(fields["action"])[:80],
                object_type=str(fields.get("object_type", ""))[:60],
                object_id=str(fields.get("object_id", ""))[:64],
                center_field=str(fields.get("center", ""))[:8],
                data=fields.get("data") or {},
                prev_hash=str(fields["prev_hash"])[:64],
                hash=str(fields["hash"])[:64],
            )
        except (KeyError, TypeError, ValueError):
            return _("The record could not be read.")
        self.audit_rows.append(row)
        return ""

    def _add_counter(self, obj: Any, event: dict[str, Any]) -> str:
        if obj.scope != self.center.code:
            return _("A node may only report its own number series.")
        key = (obj.kind, obj.scope, obj.year)
        self.counters[key] = max(self.counters.get(key, 0), obj.value)
        return ""

    def _add_relay(self, obj: Any, event: dict[str, Any]) -> str:
        if obj.kind != "sms":
            return _("Centers may only relay text messages.")
        obj.state, obj.attempts, obj.last_error = "pending", 0, ""
        obj.next_attempt_at = self.received
        self.relay.append(obj)
        return ""

    def _add_bill(self, obj: Any, event: dict[str, Any]) -> str:
        """Water bills are central's (from the establishment); a center only pays them. A bill
        paid at two offline centers: both payments are real money a citizen holds a receipt
        for, so both are kept; the later one is an overpayment credit, flagged for refund."""
        from baladiya.water.models import Bill, BillPayment

        if event["model"] == "water.bill":
            current = Bill.objects.filter(pk=obj.pk).values("state", "amount").first()
            if current is None:
                return _("The bill is not in the central register.")
            if obj.state != "paid" or obj.amount != current["amount"]:
                return _("A center may only mark a bill paid.")
            if current["state"] == "unpaid":
                self._keep(obj, event)
                if capture.subscription_served(obj.subscription_id):
                    # Another center serving the same neighbourhood must not take it again.
                    self.feed.append(("water.bill", str(obj.pk)))
            return ""  # already paid here: the payment row says by whom, twice or not
        from baladiya.payments.models import Receipt

        receipt: Any = self.rows["payments.receipt"].get(str(obj.receipt_id))
        receipt = receipt or Receipt.objects.filter(pk=obj.receipt_id).first()
        if receipt is None or receipt.center_id != self.center.pk:
            return _("The payment's receipt is not this center's.")
        bill = Bill.objects.filter(pk=obj.bill_id).first()
        if bill is None:
            return _("The bill is not in the central register.")
        pending: dict[str, Any] = self.rows["water.billpayment"]
        earlier = [p for p in pending.values() if p.bill_id == obj.bill_id]
        if earlier or BillPayment.objects.filter(bill_id=obj.bill_id).exists():
            obj.overpayment = True
            self._keep(obj, event)
            self.flags.append(
                (
                    event,
                    _(
                        "Bill %(cycle)s of meter %(meter)s was paid twice; receipt %(receipt)s "
                        "is an overpayment credit of %(amount)s piastres, to refund."
                    )
                    % {
                        "cycle": bill.cycle,
                        "meter": bill.subscription.meter_number,
                        "receipt": receipt.number,
                        "amount": obj.amount,
                    },
                )
            )
            return ""
        self._keep(obj, event)
        return ""

    def _add_ticket(self, obj: Any, event: dict[str, Any]) -> str:
        """A center opens tickets and replies; the directorate answers and closes, centrally."""
        from baladiya.centers.models import SupportTicket

        if event["model"] == "centers.ticketreply":
            if obj.from_directorate:
                return _("Only the directorate answers as the directorate.")
            ticket = self.rows["centers.supportticket"].get(str(obj.ticket_id))
            center_id = getattr(ticket, "center_id", None) or (
                SupportTicket.objects.filter(pk=obj.ticket_id)
                .values_list("center_id", flat=True)
                .first()
            )
        else:
            center_id = obj.center_id
            current = SupportTicket.objects.filter(pk=obj.pk).values("status").first()
            if current and current["status"] == "closed" and obj.status != "closed":
                return _("The directorate closed this ticket; it stays closed.")
        if center_id != self.center.pk:
            return _("The record belongs to another center.")
        self._keep(obj, event)
        return ""

    def _revoke(self, event: dict[str, Any]) -> str:
        """A revocation asked at the center, done here as if the person asked centrally."""
        from baladiya.documents.models import IssuedDocument
        from baladiya.documents.services import revoke_document

        data = event["data"]
        doc = IssuedDocument.objects.filter(number=str(event["object_id"])).first()
        if doc is None:
            return _("The document is not in the central register.")
        actor = (
            get_user_model()
            .objects.filter(username=str(data.get("actor", "")), is_active=True)
            .first()
        )
        if actor is None or actor.center_id not in (None, self.center.pk):  # type: ignore[attr-defined]
            return _("The person who asked for the revocation is not known here.")
        try:
            revoke_document(doc, actor, str(data.get("reason", "")))
        except DomainError as exc:
            if exc.code == "already_revoked":
                return ""
            return str(exc.message)
        return ""

    def _feed_if_shared(self, label: str, obj: Any) -> None:
        """A row another enrolled center needs (e.g. a document to be collected there) goes
        into the change feed; the pushing center has it already."""
        if label not in registry.PULL:
            return
        app = obj if label == "applications.application" else None
        app_id = str(obj.pk) if app is not None else str(getattr(obj, "application_id", ""))
        state = self.apps.get(app_id) or (self._app_state(app_id) if app_id else None)
        if state is None:
            return
        others = {state.center_id, state.pickup_center_id} - {self.center.pk, None}
        if others & capture._enrolled_center_ids():
            self.feed.append((label, str(obj.pk)))
            if app is not None:
                self.feed.append(("accounts.citizen", str(app.applicant_id)))

    # ------------------------------------------------------------ writing

    def flush(self) -> None:
        with one_flush_for_many():
            for obj, data in self.files:
                registry.store_files(obj, data)
        with capture.applying_remote():
            for label, rows in self.rows.items():
                registry.upsert(registry.model_of(label), rows.values())
            if self.audit_rows:
                registry.insert_many(CenterAuditEvent, self.audit_rows, skip_existing=True)
            for (kind, scope, year), value in self.counters.items():
                row, _created = CenterCounter.objects.get_or_create(
                    center=self.center.code, scope=scope, kind=kind, year=year
                )
                if value > row.value:
                    row.value = value
                    row.save(update_fields=["value"])
            if self.relay:
                model = type(self.relay[0])
                model._base_manager.bulk_create(self.relay, ignore_conflicts=True)  # type: ignore[attr-defined]
        for event in self.requests:  # through the service, with its checks and audit
            reason = self._revoke(event)
            if reason:
                self._conflict(event, reason)
        for event, reason in self.flags:
            self.conflicts.append(
                SyncConflict(
                    center=self.center.code,
                    seq=event["seq"],
                    model=str(event["model"])[:60],
                    object_id=str(event["object_id"])[:64],
                    reason=str(reason)[:300],
                    pushed=event["data"],
                )
            )
        with capture.applying_remote():
            if self.conflicts:
                SyncConflict.objects.bulk_create(self.conflicts)
        capture.append_changes(self.feed)
        # Foreign keys are checked at commit (deferred); check them now, so that a row naming
        # a record central does not have fails this batch here, inside its own transaction.
        tables = [registry.model_of(label)._meta.db_table for label in self.rows]
        if tables:
            connection.check_constraints(table_names=tables)


# ---------------------------------------------------------------- the change feed


def snapshot_ready(node: CenterNode) -> bool:
    """A first pull waits until every process has seen the enrolment (their cache of
    enrolled centers decides which changes enter the feed)."""
    wait = dt.timedelta(seconds=settings.SYNC_ENROLLED_CACHE_SECONDS)
    return bool(timezone.now() >= node.enrolled_at + wait)


def changes_for(node: CenterNode, cursor: int, limit: int = 1000) -> dict[str, Any]:
    """What changed centrally after `cursor`, as rows that concern this node's center.
    Cursor 0 is a first pull: a snapshot of everything that concerns it."""
    center = node.center
    if cursor <= 0:
        return _snapshot(node)
    changes = list(Change.objects.filter(id__gt=cursor).order_by("id")[:limit])
    upserts: dict[str, set[str]] = defaultdict(set)
    deletes = []
    for change in changes:
        if change.op == "delete":
            deletes.append({"model": change.model, "pk": change.object_id})
        else:
            upserts[change.model].add(change.object_id)
    rows = []
    for label in registry.PULL:
        ids = upserts.get(label)
        if ids:
            rows.extend(_rows(label, center, ids))
    new_cursor = changes[-1].id if changes else cursor
    _note_pull(node, new_cursor)
    return {
        "cursor": new_cursor,
        "more": len(changes) == limit,
        "rows": rows,
        "deletes": deletes,
    }


def _snapshot(node: CenterNode) -> dict[str, Any]:
    cursor = Change.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rows = []
    for label in registry.PULL:
        rows.extend(_rows(label, node.center, None, snapshot=True))
    _note_pull(node, cursor)
    return {"cursor": cursor, "more": False, "rows": rows, "deletes": [], "snapshot": True}


def _note_pull(node: CenterNode, cursor: int) -> None:
    CenterNode.objects.filter(pk=node.pk).update(last_pull_at=timezone.now(), cursor=cursor)


def _rows(
    label: str, center: Center, ids: set[str] | None, *, snapshot: bool = False
) -> list[dict[str, Any]]:
    model = registry.model_of(label)
    qs = model._base_manager.all()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    scope = registry.concerns(label, center.pk, snapshot=snapshot)
    if scope is not None:
        qs = qs.filter(scope).distinct()
    out = []
    user_model = get_user_model()
    for obj in qs.order_by("pk").iterator(chunk_size=500):
        row = registry.serialize(obj)
        if model is user_model:
            row["fields"].pop("user_permissions", None)
            if getattr(obj, "center_id", None) != center.pk:
                # Named in histories; an unusable hash: cannot log in there.
                row["fields"]["password"] = "!"  # noqa: S105
            row["group_names"] = sorted(obj.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
            row["fields"].pop("groups", None)
        out.append(row)
    return out


# ---------------------------------------------------------------- a center's audit chain


def verify_center_chain(center_code: str) -> list[audit.ChainProblem]:
    """Walk a center's audit chain as central received it (`CenterAuditEvent`): every event
    from 1 on, each linked to the one before and unchanged since the center wrote it."""
    problems: list[audit.ChainProblem] = []
    expected, prev_hash = 1, audit.GENESIS
    rows = CenterAuditEvent.objects.filter(center=center_code).order_by("seq")
    for row in rows.iterator(chunk_size=2000):
        if row.seq != expected:
            problems.append(
                audit.ChainProblem(expected, f"rows {expected}..{row.seq - 1} are missing")
            )
        if row.prev_hash != prev_hash:
            problems.append(audit.ChainProblem(row.seq, "link to the previous row is broken"))
        fields = {
            "seq": row.seq,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "center": row.center_field,
            "data": row.data,
        }
        if audit._digest(row.prev_hash, fields) != row.hash:
            problems.append(audit.ChainProblem(row.seq, "row content was changed"))
        prev_hash, expected = row.hash, row.seq + 1
    return problems
