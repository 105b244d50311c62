from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "applications"
urlpatterns = [
    path("counter/", not_ready, name="counter"),
    path("citizens/<uuid:pk>/", not_ready, name="citizen"),
    path("citizens/<uuid:pk>/apply/<slug:service>/", not_ready, name="new"),
    path("supervisor/", not_ready, name="supervisor"),
    path("back-office/", not_ready, name="back_office"),
    path("<str:reference>/", not_ready, name="detail"),
    path("<str:reference>/act/<slug:action>/", not_ready, name="act"),
]
