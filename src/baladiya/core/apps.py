from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "baladiya.core"
    label = "core"
    verbose_name = "Core"
