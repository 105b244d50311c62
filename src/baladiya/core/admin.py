"""Admin building blocks shared by every app.

- `AuditedAdmin`: reference data (catalog, centers, staff…) edited in the admin. Every add,
  change and delete — of the object and of its inline rows — appends an audit event with the
  acting user, the fields changed and their old and new values (passwords never).
- `ReadOnlyAdmin` / `ReadOnlyInline`: records that change only through service functions
  (applications, receipts, documents, the audit log itself). Visible to an auditor, never
  added, changed or deleted here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import BaseForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from baladiya.core import audit
from baladiya.core.audit_labels import action_label
from baladiya.core.models import AuditEvent, Counter

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[Any]
    TabularInlineBase = admin.TabularInline[Any, Any]
else:  # Django's admin classes are not subscriptable at run time
    ModelAdminBase = admin.ModelAdmin
    TabularInlineBase = admin.TabularInline

admin.site.site_header = _("Baladiya — Homs City Council")
admin.site.site_title = _("Baladiya — Homs City Council")
admin.site.index_title = _("Reference data and records")

_SECRET_HINTS = ("password", "secret", "token")


def _is_secret(name: str) -> bool:
    return any(hint in name.lower() for hint in _SECRET_HINTS)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, QuerySet | list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _field_value(obj: models.Model | None, name: str) -> Any:
    """The stored value of model field `name` on `obj`, as JSON (None when not a model field)."""
    if obj is None:
        return None
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.many_to_many:
        if obj.pk is None:
            return []
        return sorted(str(item) for item in getattr(obj, name).all())
    if field.is_relation:
        related = getattr(obj, name, None)
        return None if related is None else str(related)
    return _jsonable(getattr(obj, getattr(field, "attname", name)))


def describe_changes(
    form: BaseForm, before: models.Model | None, after: models.Model
) -> dict[str, Any]:
    """`{"changed": [...], "values": {field: [old, new]}}` for an audit event.

    Secret fields (passwords) are named in `changed` but their values are never recorded.
    Many-to-many values come from the form: they are saved after the object itself.
    """
    values: dict[str, list[Any]] = {}
    for name in form.changed_data:
        if _is_secret(name):
            continue
        try:
            field = after._meta.get_field(name)
        except FieldDoesNotExist:
            continue  # a form-only field
        if field.many_to_many:
            new: Any = sorted(str(item) for item in form.cleaned_data.get(name) or [])
        else:
            new = _field_value(after, name)
        values[name] = [_field_value(before, name), new]
    return {"changed": list(form.changed_data), "values": values}


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The concrete field values of `obj`, recorded when it is deleted."""
    return {
        field.name: _jsonable(getattr(obj, field.attname))
        for field in obj._meta.concrete_fields
        if not _is_secret(field.name)
    }


def _reload(obj: models.Model) -> models.Model | None:
    if obj.pk is None:
        return None
    return type(obj)._default_manager.filter(pk=obj.pk).first()


class AuditedAdmin(ModelAdminBase):
    """A ModelAdmin whose every write (object, inline rows, bulk delete) is audited.

    The admin wraps each save and delete in one transaction, so the audit event and the change
    commit together or not at all.
    """

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: Any) -> None:
        before = _reload(obj) if change else None
        super().save_model(request, obj, form, change)
        if change and not form.changed_data:
            return
        audit.record(
            "admin.change" if change else "admin.add",
            actor=request.user,
            obj=obj,
            label=str(obj)[:200],
            **describe_changes(form, before, obj),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            self._record_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: Any) -> None:
        with transaction.atomic():
            befores = self._inline_before(request, formsets)
            super().save_related(request, form, formsets, change)
            for formset in formsets:
                self._record_inline_saves(request, formset, befores)

    # ---------------------------------------------------------------- helpers

    def _record_delete(self, request: HttpRequest, obj: models.Model) -> None:
        # Recorded before the delete: afterwards the object has lost its primary key.
        audit.record(
            "admin.delete",
            actor=request.user,
            obj=obj,
            label=str(obj)[:200],
            snapshot=snapshot(obj),
        )

    def _inline_before(
        self, request: HttpRequest, formsets: Iterable[Any]
    ) -> dict[tuple[str, str], models.Model | None]:
        """Record inline deletions now; keep the stored state of changed inline rows."""
        befores: dict[tuple[str, str], models.Model | None] = {}
        for formset in formsets:
            deleted = [f for f in formset.deleted_forms if f in formset.initial_forms]
            for inline_form in deleted:
                self._record_delete(request, inline_form.instance)
            for inline_form in formset.initial_forms:
                if inline_form not in deleted and inline_form.has_changed():
                    instance = inline_form.instance
                    befores[(instance._meta.label_lower, str(instance.pk))] = _reload(instance)
        return befores

    def _record_inline_saves(
        self,
        request: HttpRequest,
        formset: Any,
        befores: dict[tuple[str, str], models.Model | None],
    ) -> None:
        forms_by_instance = {id(f.instance): f for f in formset.forms}
        saved = [(obj, "admin.add") for obj in getattr(formset, "new_objects", [])]
        saved += [(obj, "admin.change") for obj, _ in getattr(formset, "changed_objects", [])]
        for obj, action in saved:
            inline_form = forms_by_instance.get(id(obj))
            if inline_form is None:
                continue
            before = befores.get((obj._meta.label_lower, str(obj.pk)))
            audit.record(
                action,
                actor=request.user,
                obj=obj,
                label=str(obj)[:200],
                parent=str(formset.instance.pk),
                **describe_changes(inline_form, before, obj),
            )


class ReadOnlyAdmin(ModelAdminBase):
    """Records owned by service functions: list, filter, search, open — nothing else."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(TabularInlineBase):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "what_happened", "object_type", "object_id", "center")
    list_filter = ("center", "object_type", ("at", admin.DateFieldListFilter))
    search_fields = ("seq__exact", "actor", "action", "=object_id", "=center")
    date_hierarchy = "at"
    ordering = ("-seq",)
    list_per_page = 100
    show_full_result_count = False  # a COUNT(*) over millions of rows on every page is slow

    @admin.display(description=_("what happened"), ordering="action")
    def what_happened(self, event: AuditEvent) -> str:
        """The action in words, and its code as recorded (what a search matches)."""
        return format_html(
            '{}<br><small class="muted" dir="ltr">{}</small>',
            action_label(event.action),
            event.action,
        )


@admin.register(Counter)
class CounterAdmin(ReadOnlyAdmin):
    list_display = ("scope", "kind", "year", "value")
    list_filter = ("scope", "kind", "year")
    search_fields = ("=scope", "=kind")
