from django.apps import AppConfig


class CentersConfig(AppConfig):
    name = "baladiya.centers"
    label = "centers"
    verbose_name = "Centers"
