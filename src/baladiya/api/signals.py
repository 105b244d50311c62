"""A changed password ends every API token of that account, as it ends its web sessions
(Django's session auth hash): a token taken with a leaked password must not outlive it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.core import audit


@receiver(pre_save, sender=User)
def _remember_password_change(sender: type[User], instance: User, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return  # e.g. every login saves only `last_login`: no extra query for that
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password  # type: ignore[attr-defined]


@receiver(post_save, sender=User)
def _revoke_tokens_after_password_change(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    if created or not getattr(instance, "_password_changed", False):
        return
    from baladiya.api.models import ApiToken

    with transaction.atomic():
        live = ApiToken.objects.filter(user=instance, revoked_at__isnull=True)
        count = live.update(revoked_at=timezone.now())
        if count:
            audit.record(
                "api.tokens_revoked",
                actor=None,
                obj=instance,
                reason="password changed",
                count=count,
            )
    instance._password_changed = False  # type: ignore[attr-defined]
