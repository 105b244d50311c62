"""Every write to an application goes through here.

`move()` is the one place a status changes: it locks the row, checks the state machine and the
actor's role/center, records history and the audit event. Other apps (payments, documents,
delivery) call `move()` from their own service functions inside their own transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.accounts.permissions import require_center, require_role, require_transition
from baladiya.applications import hooks
from baladiya.applications.models import Application, ApplicationEvent, Attachment, Channel
from baladiya.applications.workflow import OPEN_STATES, Status, check_transition
from baladiya.catalog.forms import clean_field_values
from baladiya.catalog.models import DeliveryMode, FieldType, Service
from baladiya.centers.models import Center
from baladiya.core import audit
from baladiya.core.errors import DomainError
from baladiya.core.numbering import next_reference
from baladiya.core.queries import unique_or_none
from baladiya.core.text import join_list, normalize_arabic
from baladiya.core.uploads import CheckedUpload
from baladiya.notifications.services import notify_status_change
from baladiya.sync import capture

WEEKEND = {4, 5}  # Friday and Saturday in Syria (Monday == 0)


def add_working_days(start: dt.date, days: int) -> dt.date:
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if day.weekday() not in WEEKEND:
            remaining -= 1
    return day


# ---------------------------------------------------------------- citizens


def find_citizens(query: str, limit: int = 20) -> QuerySet[Citizen]:
    """By national number (exact, Arabic digits accepted) or by normalized name (all words)."""
    text = normalize_arabic(query)
    if not text:
        return Citizen.objects.none()
    if text.isdigit():
        return Citizen.objects.filter(national_number__startswith=text)[:limit]
    qs = Citizen.objects.all()
    for word in text.split()[:5]:
        qs = qs.filter(name_normalized__contains=word)
    return qs[:limit]


def register_citizen(actor: User, **fields: Any) -> Citizen:
    """Create a citizen record from validated fields (national number must be new)."""
    require_role(actor, roles.CLERK, roles.SUPERVISOR, roles.ADMIN)
    duplicate = DomainError(
        _("A citizen with this national number already exists."), code="duplicate_citizen"
    )
    with transaction.atomic():
        if Citizen.objects.filter(national_number=fields["national_number"]).exists():
            raise duplicate
        try:
            with transaction.atomic():  # savepoint: two clerks registering the same person
                citizen = Citizen.objects.create(**fields)
        except IntegrityError as exc:
            raise duplicate from exc
        audit.record(
            "citizen.registered",
            actor=actor,
            obj=citizen,
            center=actor.center.code if actor.center else "",
        )
    return citizen


# ---------------------------------------------------------------- submission


@dataclass
class Submission:
    service: Service
    applicant: Citizen
    center: Center
    fields: dict[str, Any]
    delivery_mode: str = DeliveryMode.PICKUP
    pickup_center: Center | None = None
    delivery_address: dict[str, Any] = field(default_factory=dict)
    attachments: dict[str, CheckedUpload] = field(default_factory=dict)
    channel: str = Channel.COUNTER
    idempotency_key: str | None = None
    note: str = ""


def submit_application(actor: User | None, sub: Submission) -> Application:
    """Create an application in `submitted`, snapshotting the fee in force today.

    Idempotent: the same `idempotency_key` (a double-clicked form, a retried API call) returns
    the application created the first time instead of a second one.
    Side effects: history row, audit event.
    """
    if sub.channel == Channel.COUNTER:
        staff = require_role(actor, roles.CLERK)
        require_center(staff, sub.center)
    if sub.idempotency_key:
        existing = unique_or_none(Application.objects.filter(idempotency_key=sub.idempotency_key))
        if existing is not None:
            return existing
    _check_submission(sub)
    cleaned = clean_field_values(sub.service, sub.fields)
    cleaned = hooks.clean_submission(sub.service, sub.applicant, cleaned)  # e.g. water arrears
    today = timezone.localdate()
    try:
        return _create_application(actor, sub, cleaned, today)
    except IntegrityError:
        # Two copies of the same form raced past the check above: the first one won.
        if sub.idempotency_key:
            existing = unique_or_none(
                Application.objects.filter(idempotency_key=sub.idempotency_key)
            )
            if existing is not None:
                return existing
        raise


def _create_application(
    actor: User | None, sub: Submission, cleaned: dict[str, Any], today: dt.date
) -> Application:
    # Read before the transaction: on SQLite a transaction holds the node's only write lock.
    fee = sub.service.fee_on(today)
    with transaction.atomic():
        app = Application.objects.create(
            reference=next_reference(sub.center.code),
            service=sub.service,
            applicant=sub.applicant,
            center=sub.center,
            channel=sub.channel,
            field_values=cleaned,
            fee_amount=fee,
            sla_due=add_working_days(today, sub.service.sla_days),
            delivery_mode=sub.delivery_mode,
            pickup_center=sub.pickup_center if sub.delivery_mode == DeliveryMode.PICKUP else None,
            delivery_address=sub.delivery_address,
            created_by=actor,
            note=sub.note,
            idempotency_key=sub.idempotency_key or None,
        )
        for code, upload in sub.attachments.items():
            _store_attachment(app, code, upload)
        event = _history(app, "submit", "", Status.SUBMITTED, actor, sub.note)
        notify_status_change(app, event.pk)
        audit.record(
            "application.submitted",
            actor=actor,
            obj=app,
            center=sub.center.code,
            reference=app.reference,
            service=sub.service.code,
            fee=app.fee_amount,
        )
    return app


def _check_submission(sub: Submission) -> None:
    if not sub.service.active:
        raise DomainError(_("This service is not offered at the moment."))
    if sub.delivery_mode not in (sub.service.delivery_modes or []):
        raise DomainError(_("This service cannot be delivered that way."))
    if sub.delivery_mode == DeliveryMode.PICKUP:
        if sub.pickup_center is None or not sub.pickup_center.accepts_pickup:
            raise DomainError(_("Choose a center where the document can be picked up."))
    elif not sub.delivery_address:
        raise DomainError(_("A postal address is required for delivery by post."))
    missing = [
        str(a.label(get_language()))
        for a in sub.service.attachments.all()
        if a.required and a.code not in sub.attachments
    ]
    if missing:
        raise DomainError(
            _("Missing required attachments: %(names)s") % {"names": "، ".join(missing)}
        )


def _store_attachment(app: Application, code: str, upload: CheckedUpload) -> Attachment:
    att = Attachment(
        application=app,
        code=code,
        original_name=upload.name,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=upload.sha256,
    )
    att.file.save(f"{app.reference}-{code}", ContentFile(upload.content), save=False)
    att.save()
    return att


# ---------------------------------------------------------------- transitions


def move(
    app: Application,
    name: str,
    actor: User | None,
    note: str = "",
    *,
    check_permission: bool = True,
    notify: bool = True,
    savepoint: bool = True,
    locked: Application | None = None,
    **audit_data: Any,
) -> Application:
    """Take transition `name` on `app`: lock, check state and actor, write history and audit.

    Runs inside the caller's transaction (or its own). `check_permission=False` is only for
    system actors (a verified payment webhook, a sync applier) that have no user.
    `notify=False`: no SMS for this state, because the caller moves the application on again
    in the same transaction (the citizen is told the state it ends in).
    `savepoint=False`: the caller runs this directly in its own `transaction.atomic()` and
    lets any error leave that block (which rolls back), so no savepoint of our own is needed.
    `locked`: the row as `lock(app)` returned it earlier in the caller's transaction (saves
    locking and reading it again); it is updated in place.
    Service rules (`applications.hooks`) run here, in this transaction: their checks before
    the status changes (a refusal changes nothing), their side effects after it.
    """
    with transaction.atomic(savepoint=savepoint):
        if locked is None:
            locked = lock(app)
        t = check_transition(name, locked.status)
        if check_permission:
            require_transition(actor, locked, t)
        hooks.before_transition(locked, name, actor)
        previous = locked.status
        locked.status = t.target
        locked.save(update_fields=["status", "updated_at"])
        hooks.after_transition(locked, name, actor)
        event = _history(locked, name, previous, t.target, actor, note)
        if notify:
            notify_status_change(locked, event.pk, note)
        audit.record(
            f"application.{name}",
            actor=actor,
            obj=locked,
            center=locked.center.code,
            reference=locked.reference,
            from_status=previous,
            to_status=t.target,
            note=note,
            **audit_data,
        )
    app.status = locked.status
    app.updated_at = locked.updated_at
    return app


_LOCK_RELATED = ("service", "applicant", "center", "pickup_center")


def lock(app: Application) -> Application:
    """The application's row, locked until the end of the transaction, read afresh with its
    service, applicant and centers (the SMS text and the audit need them). `of=("self",)`
    locks only the application row, not the joined ones (locking those caused deadlocks).

    Related rows `app` already holds are handed over instead of joined again when the fresh
    row still points at them (a five-table join cost a lock 0.8 ms against 0.3 ms for the row
    alone, on every transition); the others are joined; one whose reference changed
    meanwhile is read when used."""
    held = [name for name in _LOCK_RELATED if _related_field(name).is_cached(app)]
    query = Application.objects.select_for_update(of=("self",))
    missing = [name for name in _LOCK_RELATED if name not in held]
    if missing:
        query = query.select_related(*missing)
    fresh = query.get(pk=app.pk)
    for name in held:
        field = _related_field(name)
        if getattr(fresh, field.attname) == getattr(app, field.attname):
            field.set_cached_value(fresh, field.get_cached_value(app))
    return fresh


def _related_field(name: str) -> Any:
    return Application._meta.get_field(name)


def _history(
    app: Application, action: str, source: str, target: str, actor: User | None, note: str
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=app,
        action=action,
        from_status=source,
        to_status=target,
        actor=actor,
        actor_name=actor.display_name() if actor else audit.SYSTEM_ACTOR,
        note=note[:2000],
    )


def start_review(app: Application, actor: User) -> Application:
    return move(app, "start_review", actor)


def approve(app: Application, actor: User, note: str = "") -> Application:
    return move(app, "approve", actor, note)


def return_for_correction(app: Application, actor: User, note: str) -> Application:
    if not note.strip():
        raise DomainError(_("Say what the citizen must correct."))
    return move(app, "return", actor, note)


def reject(app: Application, actor: User, note: str) -> Application:
    if not note.strip():
        raise DomainError(_("Give the reason for the rejection."))
    return move(app, "reject", actor, note)


# Field types whose values never go into the audit log (only the field's name does).
SENSITIVE_FIELD_TYPES = frozenset({FieldType.NATIONAL_NUMBER, FieldType.PHONE})


def resubmit(
    app: Application,
    actor: User,
    fields: dict[str, Any],
    note: str = "",
    *,
    attachments: dict[str, CheckedUpload] | None = None,
) -> Application:
    """A returned application, corrected: new field values and replacement papers, back to
    `paid` for review (a clerk at its center, or the applicant online: `resubmit` roles).

    `attachments` (code -> checked upload, codes of the service's papers) are stored as new
    Attachment rows; the earlier ones stay for the record, the newest per code is the current
    one (`current_attachments`). The audit event lists the changed fields (names; the previous
    and new values too, except for national numbers and phone numbers) and the papers
    replaced (code, new file's SHA-256). Nothing is written if the actor may not resubmit or
    a value or code is invalid.
    """
    uploads = dict(attachments or {})
    cleaned = clean_field_values(app.service, fields)
    cleaned = hooks.clean_submission(app.service, app.applicant, cleaned)
    papers = {a.code for a in app.service.attachments.all()}
    unknown = sorted(set(uploads) - papers)
    if unknown:
        raise DomainError(
            _("This service has no paper called %(codes)s.") % {"codes": join_list(unknown)}
        )
    with transaction.atomic():
        locked = Application.objects.select_for_update(of=("self",)).get(pk=app.pk)
        # State and actor first: a refused resubmission stores no file.
        require_transition(actor, locked, check_transition("resubmit", locked.status))
        changed, changes = _field_changes(app.service, locked.field_values or {}, cleaned)
        Application.objects.filter(pk=app.pk).update(field_values=cleaned)
        capture.rows_changed(Application, [app.pk])  # no signal for update()
        for code in sorted(uploads):
            _store_attachment(locked, code, uploads[code])
        app.field_values = cleaned
        return move(
            app,
            "resubmit",
            actor,
            note,
            changed_fields=changed,
            changes=changes,
            replaced_attachments={code: uploads[code].sha256 for code in sorted(uploads)},
        )


def _field_changes(
    service: Service, before: dict[str, Any], after: dict[str, Any]
) -> tuple[list[str], dict[str, list[Any]]]:
    """(names of the fields whose value changed, {name: [before, after]} for the
    non-sensitive ones), in the form's order."""
    kinds = {f.name: f.type for f in service.fields.all()}
    order = list(kinds)
    names = sorted(
        (n for n in set(before) | set(after) if before.get(n) != after.get(n)),
        key=lambda n: (order.index(n) if n in kinds else len(order), n),
    )
    values = {
        n: [before.get(n), after.get(n)]
        for n in names
        if n in kinds and kinds[n] not in SENSITIVE_FIELD_TYPES
    }
    return names, values


def return_note(app: Application) -> str:
    """What the reviewer asked to correct (the note of the latest `return`), '' if none."""
    event = app.events.filter(action="return").order_by("-created_at", "-id").first()
    return event.note if event is not None else ""


def current_attachments(app: Application) -> list[Attachment]:
    """The papers in force: the newest upload per code (a resubmission adds new ones)."""
    newest: dict[str, Attachment] = {}
    for att in app.attachments.order_by("created_at", "id"):
        newest[att.code] = att
    return sorted(newest.values(), key=lambda a: (a.created_at, str(a.pk)))


def cancel(app: Application, actor: User, note: str) -> Application:
    if not note.strip():
        raise DomainError(_("Give the reason for the cancellation."))
    return move(app, "cancel", actor, note)


# ---------------------------------------------------------------- queues


def overdue(today: dt.date | None = None) -> QuerySet[Application]:
    day = today or timezone.localdate()
    return Application.objects.filter(status__in=OPEN_STATES, sla_due__lt=day)


def visible_to(user: User) -> QuerySet[Application]:
    """Applications a staff member may list (same rules as `can_view_application`)."""
    qs = Application.objects.select_related("service", "applicant", "center")
    if user.has_role(roles.ADMIN, roles.AUDITOR):
        return qs
    # An unrestricted officer or network supervisor sees everything. (`Q(pk__in=[]) | Q()`
    # stays empty in Django, so these must return before the OR below.)
    if user.has_role(roles.OFFICER) and user.agency_id is None:
        return qs
    if user.has_role(roles.SUPERVISOR) and user.center_id is None:
        return qs
    allowed = Q(pk__in=[])
    if user.has_role(roles.OFFICER):
        allowed |= Q(service__agency_id=user.agency_id)
    if user.has_role(roles.SUPERVISOR, roles.CLERK, roles.CASHIER) and user.center_id:
        allowed |= Q(center_id=user.center_id) | Q(pickup_center_id=user.center_id)
    return qs.filter(allowed)


def counts_by_center(
    qs: QuerySet[Application], today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Per submitting center: how many applications in each status, in total, and overdue."""
    day = today or timezone.localdate()
    per_status = {f"n_{s}": Count("pk", filter=Q(status=s)) for s in Status.values}
    rows = (
        qs.order_by()
        .values("center__code", "center__name_ar", "center__name_en")
        .annotate(
            total=Count("pk"),
            n_overdue=Count("pk", filter=Q(status__in=OPEN_STATES, sla_due__lt=day)),
            **per_status,
        )
        .order_by("center__code")
    )
    return list(rows)


# What the back office fulfils: back-office services, and online applications of any service
# (counter applications of counter-approval services stay at the counter).
BACK_OFFICE_WORK = Q(service__approval=Service.Approval.BACK_OFFICE) | Q(channel=Channel.ONLINE)


def back_office_queue(user: User) -> QuerySet[Application]:
    """Paid, in-review and approved (to be issued) applications the back office fulfils (the
    officer's agency if set), oldest first. Once issued, a document leaves this queue: to its
    pickup center's queue, or to the dispatch list for the post."""
    qs = Application.objects.select_related("service", "applicant", "center").filter(
        BACK_OFFICE_WORK,
        status__in=[Status.PAID, Status.IN_REVIEW, Status.APPROVED],
    )
    if not user.has_role(roles.ADMIN) and user.agency_id is not None:
        qs = qs.filter(service__agency_id=user.agency_id)
    return qs.order_by("created_at", "id")
