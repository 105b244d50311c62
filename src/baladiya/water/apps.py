from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaterConfig(AppConfig):
    name = "baladiya.water"
    label = "water"
    verbose_name = _("Water services")

    def ready(self) -> None:
        # The water services' rules in the generic workflow (meter registration, transfer,
        # clearance), and water bills as one purpose of online payment.
        from baladiya.water import meter_hooks, online

        meter_hooks.register_all()
        online.register()
