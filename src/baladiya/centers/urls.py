from django.urls import path

from baladiya.centers import views

app_name = "centers"
urlpatterns = [
    path("coverage/", views.coverage, name="coverage"),
    path("status/", views.status_page, name="status"),
    path("status/outages/<uuid:pk>/", views.outage_edit, name="outage"),
    path("tickets/", views.ticket_list, name="tickets"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<uuid:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<uuid:pk>/close/", views.ticket_close, name="ticket_close"),
]
