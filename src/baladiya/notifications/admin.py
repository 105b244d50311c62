"""Outgoing messages for administrators: what is queued, sent, and given up — and a way to put
given-up messages back in the queue once the cause (an operator outage, a wrong URL) is fixed."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from baladiya.core.admin import ReadOnlyAdmin
from baladiya.notifications.models import OutboxMessage
from baladiya.notifications.services import retry_dead


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "recipient", "state", "attempts", "next_attempt_at")
    list_filter = ("state", "kind")
    search_fields = ("recipient", "provider_ref", "dedupe_key")
    # The body is not shown: a one-time login code may still be in it.
    fields = (
        "kind",
        "recipient",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "provider_ref",
        "sent_at",
        "dedupe_key",
        "created_at",
    )
    actions = ("retry_given_up",)

    @admin.action(description=_("Put the selected given-up messages back in the queue"))
    def retry_given_up(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        dead = list(queryset.filter(state=OutboxMessage.State.DEAD))
        for message in dead:
            retry_dead(message, request.user)
        count = len(dead)
        self.message_user(
            request,
            ngettext("%(n)d message queued again.", "%(n)d messages queued again.", count)
            % {"n": count},
            messages.SUCCESS,
        )
