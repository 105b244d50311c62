from django.urls import path

from baladiya.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/integrity/", views.audit_integrity, name="audit_integrity"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
