"""Water pages. Three parts, each in its own module: the counter and the citizen's bills
(`views`), the exchange with the water establishment and collection reports
(`exchange_views`), meter registration, transfer and field inspections (`meter_views`)."""

from django.urls import include, path

from baladiya.water import exchange_urls, meter_urls, views

app_name = "water"

urlpatterns = [
    path("", include(views.urlpatterns)),
    path("exchange/", include(exchange_urls.urlpatterns)),
    path("meters/", include(meter_urls.urlpatterns)),
]
