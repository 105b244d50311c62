from django.urls import path

from baladiya.centers import views

app_name = "centers"
urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
]
