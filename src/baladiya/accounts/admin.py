"""Staff accounts (roles are groups), citizens and login attempts.

Every change to a staff member — roles, center, password — is audited, like all reference data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, LoginAttempt, OtpCode, User
from baladiya.core import audit
from baladiya.core.admin import AuditedAdmin, ReadOnlyAdmin
from baladiya.core.text import join_list, normalize_arabic
from baladiya.core.validators import clean_mobile, clean_national_number


def _check_center_bound(form: forms.ModelForm) -> None:  # type: ignore[type-arg]
    """Clerks and cashiers act only at their own center: they must have one."""
    groups = form.cleaned_data.get("groups")
    if groups is None:
        return
    names = {g.name for g in groups}
    if names & roles.CENTER_BOUND_ROLES and not form.cleaned_data.get("center"):
        form.add_error("center", _("Clerks and cashiers must belong to a center."))


class StaffCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = ("username", "full_name", "center", "agency", "groups")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        _check_center_bound(self)
        return cleaned


class StaffChangeForm(UserChangeForm):  # type: ignore[type-arg]
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        _check_center_bound(self)
        return cleaned


@admin.register(User)
class StaffAdmin(AuditedAdmin, DjangoUserAdmin):  # type: ignore[misc]
    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = (
        "username",
        "full_name",
        "center",
        "agency",
        "role_list",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = ("groups", "center", "agency", "is_active", "is_staff", "is_superuser")
    list_select_related = ("center", "agency")
    search_fields = ("username", "full_name", "first_name", "last_name", "email")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "first_name", "last_name", "email")}),
        (_("Where and what"), {"fields": ("center", "agency", "groups")}),
        (
            _("Access"),
            {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "center",
                    "agency",
                    "groups",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_list(self, user: User) -> str:
        names = sorted(g.name for g in user.groups.all())
        return join_list(roles.ROLE_LABELS.get(n, n) for n in names)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = User.objects.get(pk=id)
                audit.record("admin.password", actor=request.user, obj=user, label=user.username)
        return response


class RoleGroupAdmin(AuditedAdmin, DjangoGroupAdmin):  # type: ignore[misc]
    """Roles are groups named after `roles.ALL_ROLES`: their permissions are audited too."""


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)


class CitizenAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Citizen
        fields = (
            "national_number",
            "first_name",
            "father_name",
            "last_name",
            "mother_name",
            "birth_date",
            "phone",
        )

    def clean_national_number(self) -> str:
        return clean_national_number(self.cleaned_data["national_number"])

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data.get("phone") or ""
        return clean_mobile(phone) if phone.strip() else ""


@admin.register(Citizen)
class CitizenAdmin(AuditedAdmin):
    form = CitizenAdminForm
    list_display = ("national_number", "full_name", "mother_name", "birth_date", "phone")
    search_fields = ("=national_number", "name_normalized")
    ordering = ("last_name", "first_name")
    date_hierarchy = "created_at"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # Normalized: Arabic digits become Latin, alef/hamza forms and ta marbuta fold.
        return super().get_search_results(request, queryset, normalize_arabic(search_term))


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "ip", "succeeded")
    list_filter = ("succeeded", ("at", admin.DateFieldListFilter))
    search_fields = ("=username", "=ip")
    date_hierarchy = "at"


@admin.register(OtpCode)
class OtpCodeAdmin(ReadOnlyAdmin):
    """Citizens' SMS login codes, for support ("I got no code"): never the code itself."""

    list_display = ("created_at", "phone", "ip", "state", "attempts", "expires_at", "used_at")
    list_filter = ("state", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=phone", "=ip")
    date_hierarchy = "created_at"
    exclude = ("code_hash",)
