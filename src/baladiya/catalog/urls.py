from django.urls import path

from baladiya.catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.services, name="services"),
]
