from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "catalog"
urlpatterns = [
    path("", not_ready, name="services"),
]
