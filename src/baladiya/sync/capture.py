"""Capture changes in the transaction that makes them (decision 0009).

On a center node every save of a pushed model appends an `OutboxEvent` (row snapshot, next
gap-free sequence); on the central node every save of a pulled model appends a `Change` to
the feed. Django's `post_save`/`post_delete` run inside the caller's transaction, so a
rollback takes the event back with the change. Rows written by sync itself (applying a
batch or a pull) are not captured again (`applying_remote`).

Writes that bypass signals (`QuerySet.update`, `bulk_create`) on a replicated model must call
`rows_changed` themselves.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from baladiya.core.numbering import next_value
from baladiya.sync import registry

_local = threading.local()
_enrolled_cache: dict[str, Any] = {
    "at": -1e9,
    "ids": frozenset(),
    "codes": frozenset(),
    "neighbourhoods": frozenset(),
}


def is_center_node() -> bool:
    return str(settings.BALADIYA_NODE).startswith("center:")


@contextlib.contextmanager
def applying_remote() -> Iterator[None]:
    """Rows written inside are someone else's changes: do not capture them again."""
    previous = getattr(_local, "remote", False)
    _local.remote = True
    try:
        yield
    finally:
        _local.remote = previous


def _suppressed() -> bool:
    return bool(getattr(_local, "remote", False))


# ---------------------------------------------------------------- center: outbox


def _pushable(label: str, obj: models.Model) -> bool:
    if label not in registry.PUSH:
        return False
    if label == "core.counter":
        # Only this node's number series (not the audit head, the outbox's own counter...).
        return getattr(obj, "scope", "") == settings.NODE_CENTER_CODE
    if label == "documents.signingkey":
        return getattr(obj, "node", "") == settings.BALADIYA_NODE
    return True


def emit(obj: models.Model, op: str = "upsert", data: dict[str, Any] | None = None) -> None:
    """Append one outbox event for `obj` in the current transaction."""
    from baladiya.sync.models import OutboxEvent

    with transaction.atomic(savepoint=False):
        seq = next_value("sync", "outbox")
        OutboxEvent.objects.create(
            seq=seq,
            model=registry.label_of(type(obj)),
            object_id=str(obj.pk),
            op=op,
            data=data if data is not None else registry.serialize(obj),
        )


def emit_request(kind: str, object_id: str, data: dict[str, Any]) -> None:
    """Queue something only the central node can do (e.g. a revocation asked at a center)."""
    from baladiya.sync.models import OutboxEvent

    with transaction.atomic(savepoint=False):
        OutboxEvent.objects.create(
            seq=next_value("sync", "outbox"),
            model=kind,
            object_id=object_id,
            op="request",
            data=data,
        )


# ---------------------------------------------------------------- central: change feed


def _enrolled_center_ids() -> frozenset[Any]:
    """Centers running their own node (cached briefly: checked on every save of an
    application; a first pull waits out this cache, see `central.snapshot_ready`)."""
    now = time.monotonic()
    if now - _enrolled_cache["at"] > settings.SYNC_ENROLLED_CACHE_SECONDS:
        from baladiya.centers.models import Center
        from baladiya.sync.models import CenterNode

        rows = CenterNode.objects.filter(revoked_at=None).values_list("center_id", "center__code")
        ids = frozenset(i for i, _ in rows)
        served = Center.neighbourhoods.through.objects.filter(center_id__in=ids)  # type: ignore[attr-defined]
        _enrolled_cache.update(
            at=now,
            ids=ids,
            codes=frozenset(c for _, c in rows),
            neighbourhoods=frozenset(served.values_list("neighbourhood_id", flat=True)),
        )
    ids_now: frozenset[Any] = _enrolled_cache["ids"]
    return ids_now


def enrolled_center_codes() -> frozenset[str]:
    """The codes of the same centers (same cache)."""
    _enrolled_center_ids()
    codes: frozenset[str] = _enrolled_cache["codes"]
    return codes


def served_neighbourhood_ids() -> frozenset[Any]:
    """Neighbourhoods served by those centers (same cache): their water bills go down."""
    _enrolled_center_ids()
    ids: frozenset[Any] = _enrolled_cache["neighbourhoods"]
    return ids


def forget_enrolled_cache() -> None:
    _enrolled_cache["at"] = -1e9


def _feed_worthy(label: str, obj: models.Model) -> bool:
    if label in registry.PULL_ALL:
        return True
    if label == "accounts.user":  # staff, not citizens' portal accounts (every OTP login)
        return getattr(obj, "citizen_id", None) is None and not str(
            getattr(obj, "username", "")
        ).startswith("+")
    if label not in registry.PULL_SCOPED:
        return False
    enrolled = _enrolled_center_ids()
    if not enrolled:
        return False
    if label == "centers.supportticket":
        return getattr(obj, "center_id", None) in enrolled
    if label == "centers.ticketreply":
        return getattr(obj.ticket, "center_id", None) in enrolled  # type: ignore[attr-defined]
    if label == "water.subscription":
        return getattr(obj, "neighbourhood_id", None) in served_neighbourhood_ids()
    if label == "water.bill":
        return subscription_served(obj.subscription_id)  # type: ignore[attr-defined]
    app: Any = obj if label == "applications.application" else getattr(obj, "application", None)
    if app is None:  # a citizen: its applications' changes carry it along
        return False
    return bool({app.center_id, app.pickup_center_id} & enrolled)


def subscription_served(subscription_id: Any) -> bool:
    from baladiya.water.models import Subscription

    served = served_neighbourhood_ids()
    return bool(served) and (
        Subscription.objects.filter(pk=subscription_id, neighbourhood_id__in=served).exists()
    )


def append_change(label: str, object_id: str, op: str = "upsert") -> None:
    from baladiya.sync.models import Change

    with transaction.atomic(savepoint=False):
        Change.objects.create(
            id=next_value("sync", "change"), model=label, object_id=object_id, op=op
        )


def append_changes(rows: Iterable[tuple[str, str]]) -> None:
    """Several feed entries at once (one counter move), e.g. after applying a batch."""
    from baladiya.core.models import Counter
    from baladiya.sync.models import Change

    rows = list(dict.fromkeys(rows))
    if not rows:
        return
    with transaction.atomic(savepoint=False):
        counter, _ = Counter.objects.select_for_update().get_or_create(
            scope="sync", kind="change", year=0
        )
        first = counter.value + 1
        counter.value += len(rows)
        counter.save(update_fields=["value"])
        registry.insert_many(  # COPY on PostgreSQL: an import feeds hundreds of thousands
            Change,
            (
                Change(id=first + i, model=label, object_id=oid)
                for i, (label, oid) in enumerate(rows)
            ),
        )


def _feed_extra(label: str, obj: models.Model) -> list[tuple[str, str]]:
    """An application concerning a center brings its applicant along."""
    if label == "applications.application":
        return [("accounts.citizen", str(obj.applicant_id))]  # type: ignore[attr-defined]
    if label == "water.subscription":
        return [("accounts.citizen", str(obj.subscriber_id))]  # type: ignore[attr-defined]
    return []


# ---------------------------------------------------------------- signal handlers


def _on_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw") or _suppressed():
        return
    label = registry.label_of(sender)
    if is_center_node():
        if _pushable(label, instance):
            emit(instance)
    elif _feed_worthy(label, instance):
        with transaction.atomic(savepoint=False):
            append_change(label, str(instance.pk))
            for extra_label, extra_id in _feed_extra(label, instance):
                append_change(extra_label, extra_id)


def _on_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if _suppressed():
        return
    label = registry.label_of(sender)
    if is_center_node():
        if _pushable(label, instance):
            emit(instance, op="delete", data={"model": label, "pk": str(instance.pk)})
    elif label in registry.PULL:
        append_change(label, str(instance.pk), op="delete")


def _on_m2m(sender: Any, instance: models.Model, action: str, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or _suppressed():
        return
    if is_center_node():
        return  # centers do not change reference data
    label = registry.label_of(type(instance))
    if label in registry.PULL:
        append_change(label, str(instance.pk))
    if label == "centers.center" and kwargs.get("model") is not None:
        _area_handed_over(instance, action, kwargs.get("pk_set") or set())


def _area_handed_over(center: Any, action: str, neighbourhood_ids: set[Any]) -> None:
    """A center given more neighbourhoods collects their water bills from now on: their
    meters, subscribers and unpaid bills enter the feed (its first pull had none of them)."""
    from baladiya.water.models import Bill, Subscription

    forget_enrolled_cache()  # the served neighbourhoods changed
    if action != "post_add" or center.pk not in _enrolled_center_ids():
        return
    meters = Subscription.objects.filter(neighbourhood_id__in=neighbourhood_ids)
    rows: list[tuple[str, str]] = []
    for pk, citizen in meters.values_list("pk", "subscriber_id").iterator(chunk_size=5000):
        rows += [("accounts.citizen", str(citizen)), ("water.subscription", str(pk))]
    unpaid = Bill.objects.filter(subscription__in=meters, state=Bill.State.UNPAID)
    rows += [("water.bill", str(pk)) for pk in unpaid.values_list("pk", flat=True).iterator()]
    append_changes(rows)


def rows_changed(model: type[models.Model], pks: Iterable[Any]) -> None:
    """Capture rows changed by a write that sends no signal (`QuerySet.update`,
    `bulk_create`: a water import writes hundreds of thousands of rows)."""
    if _suppressed():
        return
    pks = list(pks)
    label = registry.label_of(model)
    if not is_center_node() and label in _BULK_SCOPES:
        append_changes(_BULK_SCOPES[label](pks))
        return
    for obj in model._base_manager.filter(pk__in=pks):
        _on_save(model, obj)


def _served(rows: Iterable[tuple[str, Any, Any]], served: frozenset[Any]) -> list[tuple[str, str]]:
    """(label, pk, neighbourhood) rows -> feed entries for the served neighbourhoods."""
    return [(label, str(pk)) for label, pk, where in rows if where in served]


def _bulk_subscriptions(pks: list[Any]) -> list[tuple[str, str]]:
    from baladiya.water.models import Subscription

    served = served_neighbourhood_ids()
    if not served:
        return []
    out: list[tuple[str, str]] = []
    for start in range(0, len(pks), 5000):
        rows = Subscription.objects.filter(pk__in=pks[start : start + 5000]).values_list(
            "pk", "subscriber_id", "neighbourhood_id"
        )
        for pk, citizen, where in rows:
            if where in served:
                out += [("accounts.citizen", str(citizen)), ("water.subscription", str(pk))]
    return out


def _bulk_bills(pks: list[Any]) -> list[tuple[str, str]]:
    from baladiya.water.models import Bill

    served = served_neighbourhood_ids()
    if not served:
        return []
    out: list[tuple[str, str]] = []
    for start in range(0, len(pks), 5000):
        rows = Bill.objects.filter(pk__in=pks[start : start + 5000]).values_list(
            "pk", "subscription__neighbourhood_id"
        )
        out += _served((("water.bill", pk, where) for pk, where in rows), served)
    return out


def _bulk_citizens(pks: list[Any]) -> list[tuple[str, str]]:
    """A citizen goes down with an application or a subscription that concerns a center;
    an imported citizen's subscription brings it along (`_bulk_subscriptions`)."""
    from baladiya.water.models import Subscription

    served = served_neighbourhood_ids()
    if not served:
        return []
    out: list[tuple[str, str]] = []
    for start in range(0, len(pks), 5000):
        rows = Subscription.objects.filter(subscriber_id__in=pks[start : start + 5000]).values_list(
            "subscriber_id", "neighbourhood_id"
        )
        out += _served((("accounts.citizen", pk, where) for pk, where in rows), served)
    return out


_BULK_SCOPES = {
    "water.subscription": _bulk_subscriptions,
    "water.bill": _bulk_bills,
    "accounts.citizen": _bulk_citizens,
}


def connect() -> None:
    labels = set(registry.PUSH) | set(registry.PULL)
    for label in labels:
        model = registry.model_of(label)
        post_save.connect(_on_save, sender=model, dispatch_uid=f"sync-save-{label}")
        post_delete.connect(_on_delete, sender=model, dispatch_uid=f"sync-delete-{label}")
    from django.contrib.auth import get_user_model

    user = get_user_model()
    m2m_changed.connect(_on_m2m, sender=user.groups.through, dispatch_uid="sync-m2m-groups")
    center = registry.model_of("centers.center")
    m2m_changed.connect(
        _on_m2m,
        sender=center.neighbourhoods.through,  # type: ignore[attr-defined]
        dispatch_uid="sync-m2m-neighbourhoods",
    )
