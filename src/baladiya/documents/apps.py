from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "baladiya.documents"
    label = "documents"
    verbose_name = "Documents"
