from django.urls import path

from baladiya.applications import views

app_name = "applications"
urlpatterns = [
    path("counter/", views.counter, name="counter"),
    path("citizens/<uuid:pk>/", views.citizen, name="citizen"),
    path("citizens/<uuid:pk>/apply/<slug:service>/", views.new_application, name="new"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("back-office/", views.back_office, name="back_office"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/act/<slug:action>/", views.act, name="act"),
    path("<str:reference>/resubmit/", views.resubmit, name="resubmit"),
    path("<str:reference>/attachments/<uuid:pk>/", views.attachment, name="attachment"),
]
