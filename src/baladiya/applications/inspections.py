"""Field inspections: a visit an application needs before it may be approved.

Generic: any service whose hooks say `needs_inspection` (`applications.hooks`) gets them; the
first is the new water meter (`water-new-meter`), where the visit also records the meter
number installed. Rules:

- Scheduled and recorded only while the application is `in_review`, by whoever may approve
  it (`accounts.permissions.may_take` with the `approve` transition: role, center, agency).
- One visit waiting at a time (also a database constraint); its date from today to
  `MAX_DAYS_AHEAD` days ahead; an inspector by staff account or by name.
- A result (passed / failed, notes required when failed) is recorded once, not before the
  visit's day. The service's `check_inspection_result` validates what it needs (the meter
  number for water).
- Approval needs the latest visit to have passed (`require_passed_inspection`, called by
  `hooks.before_transition`). A failed visit leaves the application in review: the reviewer
  returns it for correction (then schedules a new visit) or rejects it.
- Central node only: visits are not part of what center nodes push (decision 0009), so a
  visit recorded at a center would never reach the central node.

Every write is audited; the citizen gets an SMS with the visit's date.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from baladiya.accounts.models import User
from baladiya.accounts.permissions import may_take
from baladiya.applications import hooks
from baladiya.applications.models import Application, InspectionVisit
from baladiya.applications.workflow import Status, transition
from baladiya.core import audit
from baladiya.core.errors import Conflict, DomainError, NotAllowed, NotFound
from baladiya.notifications.services import queue_sms
from baladiya.sync import capture

MAX_DAYS_AHEAD = 60
Result = InspectionVisit.Result


def needs_inspection(app: Application) -> bool:
    return hooks.hooks_for(app.service.code).needs_inspection


def may_manage(user: object, app: Application) -> bool:
    """Whether `user` may schedule and record the visits of `app`: whoever may approve it."""
    return may_take(user, app, transition("approve"))


def visits(app: Application) -> list[InspectionVisit]:
    """Every visit of the application, oldest first."""
    return list(
        InspectionVisit.objects.filter(application=app)
        .select_related("inspector", "scheduled_by", "recorded_by")
        .order_by("created_at", "id")
    )


def latest(app: Application) -> InspectionVisit | None:
    return InspectionVisit.objects.filter(application=app).order_by("-created_at", "-id").first()


def require_passed_inspection(app: Application) -> InspectionVisit:
    """The application's latest visit, if it passed; otherwise approval is refused."""
    visit = latest(app)
    if visit is None:
        raise DomainError(
            _("A field inspection is needed before approval: schedule the visit first."),
            code="inspection_missing",
        )
    if visit.result == Result.PENDING:
        raise DomainError(
            _("The field inspection of %(day)s has no result yet: record it first.")
            % {"day": visit.scheduled_for.isoformat()},
            code="inspection_pending",
        )
    if visit.result == Result.FAILED:
        raise DomainError(
            _(
                "The latest field inspection failed: return the application for correction"
                " (then schedule a new visit) or reject it."
            ),
            code="inspection_failed",
        )
    return visit


def _checks(app: Application, actor: User) -> Application:
    """Lock the application and check everything common to scheduling and recording."""
    if capture.is_center_node():
        raise DomainError(
            _("Field inspections are scheduled and recorded on the central node."),
            code="central_only",
        )
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("service", "center", "applicant")
        .get(pk=app.pk)
    )
    if not needs_inspection(locked):
        raise DomainError(_("This service needs no field inspection."), code="no_inspection")
    if not may_manage(actor, locked):
        raise NotAllowed(_("You may not manage the field inspections of this application."))
    if locked.status != Status.IN_REVIEW:
        raise DomainError(
            _(
                "Field inspections are scheduled and recorded while the application is in review"
                " (it is “%(status)s”)."
            )
            % {"status": locked.status_label},
            code="illegal_transition",
        )
    return locked


def schedule_inspection(
    app: Application,
    actor: User,
    scheduled_for: dt.date,
    *,
    inspector: User | None = None,
    inspector_name: str = "",
) -> InspectionVisit:
    """Plan a visit for `app` on `scheduled_for` by `inspector` (a staff account) or
    `inspector_name`. Refused while another visit waits for its result, after a passed one,
    for a date in the past or more than `MAX_DAYS_AHEAD` days ahead. Audit
    `application.inspection_scheduled`; SMS to the applicant with the date."""
    name = " ".join((inspector.display_name() if inspector else inspector_name or "").split())
    if not name:
        raise DomainError(_("Name the inspector."), code="inspector")
    if len(name) > 150:
        raise DomainError(_("The inspector's name is too long."), code="inspector")
    if inspector is not None and (not inspector.is_active or not inspector.role_codes()):
        raise DomainError(_("The inspector must be an active staff member."), code="inspector")
    today = timezone.localdate()
    if scheduled_for < today:
        raise DomainError(_("The visit cannot be scheduled in the past."), code="visit_date")
    if scheduled_for > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(
            _("The visit must be within %(days)s days.") % {"days": MAX_DAYS_AHEAD},
            code="visit_date",
        )
    with transaction.atomic():
        locked = _checks(app, actor)
        previous = latest(locked)
        if previous is not None and previous.result == Result.PENDING:
            raise Conflict(
                _("A visit is already scheduled for %(day)s: record its result first.")
                % {"day": previous.scheduled_for.isoformat()},
                code="inspection_pending",
            )
        if previous is not None and previous.result == Result.PASSED:
            raise Conflict(
                _("The field inspection already passed: the application can be approved."),
                code="inspection_passed",
            )
        try:
            with transaction.atomic():  # a twin that raced past the check above
                visit = InspectionVisit.objects.create(
                    application=locked,
                    scheduled_for=scheduled_for,
                    inspector=inspector,
                    inspector_name=name,
                    scheduled_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("A visit is already scheduled: record its result first."),
                code="inspection_pending",
            ) from exc
        audit.record(
            "application.inspection_scheduled",
            actor=actor,
            obj=visit,
            center=locked.center.code,
            reference=locked.reference,
            scheduled_for=scheduled_for.isoformat(),
            inspector=name,
        )
        _tell_applicant(locked, visit)
    return visit


def _tell_applicant(app: Application, visit: InspectionVisit) -> None:
    with translation.override("ar"):
        text = _(
            "Homs City Council: a field visit for your application %(reference)s is scheduled"
            " on %(day)s."
        ) % {"reference": app.reference, "day": visit.scheduled_for.isoformat()}
    queue_sms(app.applicant.phone, str(text), dedupe_key=f"inspection:{visit.pk}")


def record_inspection(
    visit: InspectionVisit,
    actor: User,
    result: str,
    notes: str = "",
    *,
    meter_number: str = "",
) -> InspectionVisit:
    """The result of a scheduled visit: `passed` or `failed` (notes required), once, from
    the visit's day on. The service's `check_inspection_result` validates the rest and
    gives the meter number to keep. Audit `application.inspection_recorded`."""
    notes = (notes or "").strip()[:2000]
    if result not in (Result.PASSED, Result.FAILED):
        raise DomainError(_("Choose passed or failed."), code="inspection_result")
    if result == Result.FAILED and not notes:
        raise DomainError(_("Say why the inspection failed."), code="inspection_notes")
    with transaction.atomic():
        locked = _checks(visit.application, actor)
        row = InspectionVisit.objects.select_for_update().filter(pk=visit.pk).first()
        if row is None or row.application_id != locked.pk:
            raise NotFound(_("No such field inspection."))
        if row.result != Result.PENDING:
            raise Conflict(
                _("The result of this visit was already recorded (%(result)s).")
                % {"result": row.get_result_display()},
                code="inspection_recorded",
            )
        today = timezone.localdate()
        if row.scheduled_for > today:
            raise DomainError(
                _("The visit is scheduled for %(day)s: its result can be recorded from that day.")
                % {"day": row.scheduled_for.isoformat()},
                code="visit_date",
            )
        check = hooks.hooks_for(locked.service.code).check_inspection_result
        meter = check(locked, result, meter_number) if check is not None else ""
        row.result = result
        row.notes = notes
        row.meter_number = meter
        row.recorded_at = timezone.now()
        row.recorded_by = actor
        row.save(update_fields=["result", "notes", "meter_number", "recorded_at", "recorded_by"])
        audit.record(
            "application.inspection_recorded",
            actor=actor,
            obj=row,
            center=locked.center.code,
            reference=locked.reference,
            result=result,
            notes=notes,
            meter_number=meter,
        )
    visit.result, visit.notes, visit.meter_number = row.result, row.notes, row.meter_number
    visit.recorded_at, visit.recorded_by = row.recorded_at, row.recorded_by
    return visit
