from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "baladiya.catalog"
    label = "catalog"
    verbose_name = "Catalog"
