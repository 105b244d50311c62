"""API tokens in the admin: listed (never their value), revoked through `services.revoke_token`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from baladiya.api import services
from baladiya.api.models import ApiToken

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[ApiToken]
else:
    ModelAdminBase = admin.ModelAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdminBase):
    list_display = ("prefix", "user", "kind", "created_at", "expires_at", "revoked_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "prefix")
    readonly_fields = (
        "user",
        "kind",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_ip",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tokens are issued through the API's sign-in only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the audit log refers to them

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.revoke_token(token, request.user, "revoked by an administrator")
            count += 1
        self.message_user(
            request,
            ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", count) % {"n": count},
            messages.SUCCESS,
        )
