from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "baladiya.api"
    label = "api"
    verbose_name = _("Public API")

    def ready(self) -> None:
        from baladiya.api import signals  # noqa: F401 - connects the password-change receiver
