"""Exchange with the water establishment and collection reports (see exchange_views)."""

from django.urls import URLPattern, path

from baladiya.water import exchange_views

urlpatterns: list[URLPattern] = [
    path("", exchange_views.imports, name="exchange_imports"),
    path("imports/<uuid:pk>/", exchange_views.import_detail, name="exchange_import"),
    path(
        "imports/<uuid:pk>/errors.csv", exchange_views.import_errors, name="exchange_import_errors"
    ),
    path("collections/", exchange_views.collections_report, name="exchange_collections"),
    path(
        "collections/file/",
        exchange_views.collections_download,
        name="exchange_collections_file",
    ),
    path("collections/send/", exchange_views.collections_send, name="exchange_collections_send"),
]
