from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "delivery"
urlpatterns = [
    path("pickup/", not_ready, name="pickup_queue"),
    path("handover/<str:reference>/", not_ready, name="handover"),
]
