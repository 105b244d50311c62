from django.urls import path

from baladiya.delivery import views

app_name = "delivery"
urlpatterns = [
    path("pickup/", views.pickup_queue, name="pickup_queue"),
    path("handover/<str:reference>/", views.handover, name="handover"),
]
