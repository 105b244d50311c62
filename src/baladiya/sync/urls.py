from django.urls import path

from baladiya.sync import views

app_name = "sync"
urlpatterns = [
    path("v1/enrol", views.enrol, name="enrol"),
    path("v1/push", views.push, name="push"),
    path("v1/changes", views.changes, name="changes"),
    path("v1/heartbeat", views.heartbeat, name="heartbeat"),
]
