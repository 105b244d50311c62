"""Issued documents and signing keys: issued, revoked and rotated only through services."""

from __future__ import annotations

from django.contrib import admin

from baladiya.core.admin import ReadOnlyAdmin
from baladiya.documents.models import IssuedDocument, SigningKey


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "application",
        "center",
        "holder_name",
        "issued_at",
        "valid_until",
        "state",
        "key",
    )
    list_filter = ("state", "center", "key", ("issued_at", admin.DateFieldListFilter))
    list_select_related = ("application", "center", "key")
    search_fields = (
        "=number",
        "=application__reference",
        "=holder_national_number",
        "holder_name",
    )
    date_hierarchy = "issued_at"
    exclude = ("pdf",)  # the binary is served by the documents app, not shown in a form
    show_full_result_count = False


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ("key_id", "node", "valid_from", "valid_to", "active", "revoked_at")
    list_filter = ("node", "active")
    search_fields = ("=key_id",)
