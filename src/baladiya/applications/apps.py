from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "baladiya.applications"
    label = "applications"
    verbose_name = "Applications"
