from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaterConfig(AppConfig):
    name = "baladiya.water"
    label = "water"
    verbose_name = _("Water services")

    def ready(self) -> None:
        # Water bills are one purpose of online payment.
        from baladiya.water import online

        online.register()
