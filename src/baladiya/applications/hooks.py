"""Service-specific rules plugged into the generic workflow, per catalog service code.

The workflow (`applications.workflow`, `applications.services.move`) knows nothing about
water meters or any other domain. A domain app registers, in its `AppConfig.ready()`, a
`ServiceHooks` for the services it owns (`register("water-new-meter", ServiceHooks(...))`);
the generic code then calls:

- `clean_submission(service, applicant, fields)` when an application is submitted or
  resubmitted (fields already validated by type): refuses, or returns the fields to store
  (e.g. a meter number in its normal form);
- `before_transition(app, name, actor)` inside `move()`, after the state and the actor were
  checked and before the status changes: for `approve` the generic rule "a field inspection
  passed" (services with `needs_inspection`), then the service's `check_before_approve`;
  for `issue` the service's `check_before_issue`;
- `after_transition(app, name, actor)` inside `move()` once the status changed: for
  `approve`, the service's `on_approved` (e.g. create the water subscription);
- `document_rows(app)` when the document's content is put together (extra facts printed in
  the document's table: label_ar, label_en, value, ltr);
- `detail_panel(user, app)` on the staff detail page (a template snippet and its context).

Every hook runs inside the transaction of the step it belongs to: raising a `DomainError`
refuses the step and nothing of it is written (the status change included).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from baladiya.accounts.models import Citizen, User
    from baladiya.applications.models import Application
    from baladiya.catalog.models import Service


@dataclass(frozen=True)
class Panel:
    """A snippet shown on the staff detail page: `template` rendered with `panel` = context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceHooks:
    """What one service adds to the generic workflow (every part optional)."""

    # Approval needs a passed field inspection (`applications.inspections`).
    needs_inspection: bool = False
    clean_submission: Callable[[Service, Citizen, dict[str, Any]], dict[str, Any]] | None = None
    # (application, result, meter number typed) -> the meter number to store ("" for none).
    check_inspection_result: Callable[[Application, str, str], str] | None = None
    check_before_approve: Callable[[Application], None] | None = None
    on_approved: Callable[[Application, User | None], None] | None = None
    check_before_issue: Callable[[Application], None] | None = None
    document_rows: Callable[[Application], list[dict[str, Any]]] | None = None
    detail_panel: Callable[[User, Application], Panel | None] | None = None


NO_HOOKS = ServiceHooks()
_registry: dict[str, ServiceHooks] = {}


def register(service_code: str, hooks: ServiceHooks) -> None:
    """Attach `hooks` to a service code. Registering the same hooks again is harmless (an
    app's ready() may run twice in tests); different hooks for one code are a mistake."""
    existing = _registry.get(service_code)
    if existing is not None and existing != hooks:
        raise ImproperlyConfigured(f"service {service_code!r} already has other hooks")
    _registry[service_code] = hooks


def hooks_for(service_code: str) -> ServiceHooks:
    return _registry.get(service_code, NO_HOOKS)


def has_rules(service_code: str) -> bool:
    """Whether a service has rules of its own (a generator of sample applications, such as
    the demo, cannot fill its form with random values)."""
    return service_code in _registry


def clean_submission(
    service: Service, applicant: Citizen, fields: dict[str, Any]
) -> dict[str, Any]:
    clean = hooks_for(service.code).clean_submission
    return clean(service, applicant, fields) if clean is not None else fields


def before_transition(app: Application, name: str, actor: User | None) -> None:
    hooks = hooks_for(app.service.code)
    if hooks is NO_HOOKS:
        return
    if name == "approve":
        if hooks.needs_inspection:
            from baladiya.applications.inspections import require_passed_inspection

            require_passed_inspection(app)
        if hooks.check_before_approve is not None:
            hooks.check_before_approve(app)
    elif name == "issue" and hooks.check_before_issue is not None:
        hooks.check_before_issue(app)


def after_transition(app: Application, name: str, actor: User | None) -> None:
    hooks = hooks_for(app.service.code)
    if name == "approve" and hooks.on_approved is not None:
        hooks.on_approved(app, actor)


def document_rows(app: Application) -> list[dict[str, Any]]:
    rows = hooks_for(app.service.code).document_rows
    return rows(app) if rows is not None else []


def detail_panel(user: User, app: Application) -> Panel | None:
    panel = hooks_for(app.service.code).detail_panel
    return panel(user, app) if panel is not None else None
