from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "baladiya.sync"
    label = "sync"
    verbose_name = _("Center sync")

    def ready(self) -> None:
        from baladiya.core.numbering import SERIES_GUARDS
        from baladiya.sync import capture, central

        capture.connect()
        if central.guard_series not in SERIES_GUARDS:
            SERIES_GUARDS.append(central.guard_series)
