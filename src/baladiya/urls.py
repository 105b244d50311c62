from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from baladiya.documents import views as document_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path(".well-known/baladiya/keys.json", document_views.public_keys, name="public_keys"),
    # The admin's own login form has no rate limit: staff always log in through ours.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("baladiya.accounts.urls")),
    path("centers/", include("baladiya.centers.urls")),
    path("catalog/", include("baladiya.catalog.urls")),
    path("applications/", include("baladiya.applications.urls")),
    path("payments/", include("baladiya.payments.urls")),
    path("documents/", include("baladiya.documents.urls")),
    path("verify/", include("baladiya.documents.verify_urls")),
    path("delivery/", include("baladiya.delivery.urls")),
    path("notifications/", include("baladiya.notifications.urls")),
    path("e/", include("baladiya.portal.urls")),
    path("api/", include("baladiya.api.urls")),
    path("sync/", include("baladiya.sync.urls")),
    path("water/", include("baladiya.water.urls")),
    path("", include("baladiya.core.urls")),
]

handler400 = "baladiya.core.views.bad_request"
handler403 = "baladiya.core.views.forbidden"
handler404 = "baladiya.core.views.not_found"
handler500 = "baladiya.core.views.server_error"
