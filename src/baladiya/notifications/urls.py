from django.urls import path

from baladiya.notifications import views

app_name = "notifications"
urlpatterns = [
    # The sandbox SMS gateway's inbox (demo and debug nodes only).
    path("sandbox/", views.sandbox_sms, name="sandbox_sms"),
]
