"""Which rows move between nodes, in which direction, and how a row travels (decision 0009).

A row travels as Django's own serialization (`{"model", "pk", "fields"}`, JSON-safe: dates
as ISO strings, binary as base64, foreign keys as ids), plus `files` (base64 content of its
file fields: an attachment must arrive with its bytes).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import models
from django.db.models import Q
from django.db.models.fields.files import FieldFile

# How central treats a row a center pushed.
OWNED = "owned"  # the row names its center (`center` field): only that center writes it
CHILD = "child"  # insert-only history of an application the center may act on
CITIZEN = "citizen"  # shared; merged by national number
KEY = "key"  # the node's own public signing keys
AUDIT = "audit"  # the node's audit chain, kept apart per center
COUNTER = "counter"  # the node's number series, kept for replacing its PC
RELAY = "relay"  # messages central sends on the node's behalf (SMS)
TICKET = "ticket"  # support tickets: opened at the center, answered by the directorate
BILL = "bill"  # water bills paid at a center: never dropped, paid twice = overpayment


@dataclass(frozen=True)
class PushRule:
    label: str  # app_label.modelname
    kind: str


PUSH: dict[str, PushRule] = {
    rule.label: rule
    for rule in (
        PushRule("accounts.citizen", CITIZEN),
        PushRule("applications.application", OWNED),
        PushRule("applications.applicationevent", CHILD),
        PushRule("applications.attachment", CHILD),
        PushRule("payments.cashiersession", OWNED),
        PushRule("payments.receipt", OWNED),
        PushRule("payments.refund", OWNED),
        PushRule("documents.issueddocument", OWNED),
        PushRule("documents.signingkey", KEY),
        PushRule("delivery.handover", OWNED),
        PushRule("core.auditevent", AUDIT),
        PushRule("core.counter", COUNTER),
        PushRule("notifications.outboxmessage", RELAY),
        PushRule("centers.supportticket", TICKET),
        PushRule("centers.ticketreply", TICKET),
        PushRule("water.bill", BILL),
        PushRule("water.billpayment", BILL),
    )
}

# Pulled by every center, in this order (parents before children: SQLite checks foreign
# keys at commit, but an upsert reads nothing, so the order only matters for readability).
PULL_ALL = (
    "centers.neighbourhood",
    "centers.center",
    "catalog.agency",
    "catalog.service",
    "catalog.servicefield",
    "catalog.requiredattachment",
    "catalog.fee",
    "water.tariff",
    "water.slab",
    "documents.signingkey",
)
# Pulled only where they concern the center (see `concerns`).
PULL_SCOPED = (
    "accounts.user",
    "accounts.citizen",
    "applications.application",
    "applications.applicationevent",
    "documents.issueddocument",
    "centers.supportticket",
    "centers.ticketreply",
    # Water bills for collection at the counter (issue 5): the subscriptions in the
    # neighbourhoods the center serves, and their bills (a snapshot takes the unpaid ones).
    "water.subscription",
    "water.bill",
)
PULL = PULL_ALL + PULL_SCOPED


def model_of(label: str) -> type[models.Model]:
    return apps.get_model(label)


def label_of(model: type[models.Model]) -> str:
    return str(model._meta.label_lower)


def concerns(label: str, center_id: Any, *, snapshot: bool = False) -> Q | None:
    """Rows of `label` a center needs (None: all of them). A first pull (`snapshot`) leaves
    out what a center cannot act on: bills already paid."""
    pickup_here = Q(pickup_center_id=center_id) & ~Q(center_id=center_id)
    if label == "accounts.user":
        # Staff (not citizens' portal accounts): its own to log in offline, the others because
        # the history of a document routed here names them (sent without a usable password).
        return Q(citizen__isnull=True) & ~Q(username__startswith="+")
    if label == "accounts.citizen":
        return (
            Q(applications__pickup_center_id=center_id)
            | Q(applications__center_id=center_id)
            | Q(water_subscriptions__neighbourhood__centers=center_id)
        )
    if label == "water.subscription":
        return Q(neighbourhood__centers=center_id)
    if label == "water.bill":
        served = Q(subscription__neighbourhood__centers=center_id)
        return served & Q(state="unpaid") if snapshot else served
    if label == "applications.application":
        # Applications made here (back-office decisions come back) or to be collected here.
        return Q(center_id=center_id) | pickup_here
    if label == "applications.applicationevent":
        return Q(application__center_id=center_id) | Q(application__pickup_center_id=center_id)
    if label == "centers.supportticket":
        return Q(center_id=center_id)
    if label == "centers.ticketreply":
        return Q(ticket__center_id=center_id)
    if label == "documents.issueddocument":
        return Q(application__center_id=center_id) | Q(application__pickup_center_id=center_id)
    return None


# ---------------------------------------------------------------- serialization


def _json_value(value: Any) -> Any:
    """A field's value as JSON, losing nothing: datetimes keep their microseconds (Django's
    JSON encoder cuts them to milliseconds, and an audit event's hash covers them)."""
    if value is None or isinstance(value, (bool, int, float, str, dict, list)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, FieldFile):
        return value.name or ""
    return str(value)


def serialize(obj: models.Model) -> dict[str, Any]:
    """One row as JSON-safe data, in the shape of Django's serializer (`model`, `pk`, `fields`
    by field name, foreign keys as ids, many-to-many as lists of ids), plus the content of
    its file fields (`files`)."""
    meta = obj._meta
    fields: dict[str, Any] = {}
    files = {}
    for field in meta.concrete_fields:
        if field.primary_key:
            continue
        value = field.value_from_object(obj)
        fields[field.name] = _json_value(value)
        if isinstance(field, models.FileField) and value:
            with value.open("rb") as fh:
                files[field.attname] = base64.b64encode(fh.read()).decode("ascii")
    for m2m in meta.many_to_many:
        if obj.pk is not None:
            fields[m2m.name] = [
                _json_value(pk) for pk in getattr(obj, m2m.name).values_list("pk", flat=True)
            ]
    row: dict[str, Any] = {"model": meta.label_lower, "pk": _json_value(obj.pk), "fields": fields}
    if files:
        row["files"] = files
    return row


def _fields_by_name(model: type[models.Model]) -> dict[str, Any]:
    cached: dict[str, Any] | None = _FIELDS.get(model)
    if cached is None:
        cached = {f.name: f for f in model._meta.get_fields() if f.concrete}
        _FIELDS[model] = cached
    return cached


_FIELDS: dict[type[models.Model], dict[str, Any]] = {}


def deserialize(row: dict[str, Any]) -> tuple[models.Model, dict[str, list[Any]]]:
    """An unsaved instance and its many-to-many ids, from `serialize` output.

    What Django's "python" deserializer does for these rows (each value through its field's
    `to_python`; a foreign key through its target field's), without its per-row machinery
    (natural keys, m2m managers): a backlog is tens of thousands of rows. A field this
    version does not know (a newer node) is ignored rather than failing the whole batch."""
    model = model_of(row["model"])
    fields = _fields_by_name(model)
    pk = model._meta.pk
    assert pk is not None
    values: dict[str, Any] = {pk.attname: pk.to_python(row["pk"])}
    many: dict[str, list[Any]] = {}
    for name, value in row["fields"].items():
        field = fields.get(name)
        if field is None:
            continue
        if field.many_to_many:
            many[name] = [field.target_field.to_python(v) for v in value or []]
        elif field.is_relation:
            target = field.target_field
            values[field.attname] = None if value is None else target.to_python(value)
        else:
            values[field.attname] = field.to_python(value)
    return model(**values), many


def store_files(obj: models.Model, row: dict[str, Any]) -> None:
    """Write the files that came with a row under the same names (before the row is saved)."""
    for attname, content in (row.get("files") or {}).items():
        field_file = getattr(obj, attname)
        storage = field_file.storage
        name = field_file.name
        if not storage.exists(name):
            storage.save(name, ContentFile(base64.b64decode(content)))


def upsert(model: type[models.Model], objs: Iterable[models.Model]) -> int:
    """Insert or update rows as given (raw: `auto_now_add` and other pre-save hooks must not
    touch values that were set on the node that made the row)."""
    objs = list(objs)
    if not objs:
        return 0
    meta = model._meta
    fields = [f for f in meta.concrete_fields]
    update_fields = [f for f in fields if not f.primary_key]
    qs = model._base_manager.all()
    # QuerySet._insert is Django's private bulk INSERT; bulk_create has no `raw` switch and
    # would stamp `created_at` with today's time.
    from django.db.models.constants import OnConflict

    for start in range(0, len(objs), 500):
        qs._insert(  # type: ignore[attr-defined]
            objs[start : start + 500],
            fields=fields,
            raw=True,
            on_conflict=OnConflict.UPDATE if update_fields else OnConflict.IGNORE,
            update_fields=update_fields or None,
            unique_fields=[meta.pk] if update_fields else None,
        )
    for obj in objs:  # now stored: related managers (groups.set) may use them
        obj._state.adding, obj._state.db = False, qs.db
    return len(objs)


def insert_many(
    model: type[models.Model], objs: Iterable[models.Model], *, skip_existing: bool = False
) -> None:
    """Insert new rows fast: on PostgreSQL through COPY (about three times faster than the
    multi-row INSERT Django builds, whose arrays psycopg spells out in Python), elsewhere
    `bulk_create`. `skip_existing`: rows whose unique keys exist already are left alone
    (COPY into a temporary table, then INSERT … ON CONFLICT DO NOTHING). Each field's
    `pre_save` runs as in `bulk_create` (an `auto_now_add` field gets the time); primary keys
    are included when set."""
    from django.db import connections, router

    objs = list(objs)
    if not objs:
        return
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        model._base_manager.using(using).bulk_create(objs, ignore_conflicts=skip_existing)
        return
    meta = model._meta
    fields = [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and getattr(objs[0], f.attname) is None)
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    table = quote(meta.db_table)
    # Names come from the model's own metadata, quoted; values travel through COPY. Raw
    # psycopg errors are turned into Django's (a duplicate is an IntegrityError to callers).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        target = table
        if skip_existing:
            target = quote(f"tmp_{meta.db_table}")
            empty_copy = f"SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
            # The columns only: no constraint, no identity.
            cursor.execute(f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS {empty_copy}")
        with cursor.cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                )
        if skip_existing:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target}"  # noqa: S608
                " ON CONFLICT DO NOTHING"
            )
            cursor.execute(f"DROP TABLE {target}")
