from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "centers"
urlpatterns = [
    path("coverage/", not_ready, name="coverage"),
]
