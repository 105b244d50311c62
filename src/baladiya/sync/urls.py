from django.urls import path

from baladiya.sync import pages, views

app_name = "sync"
urlpatterns = [
    path("v1/enrol", views.enrol, name="enrol"),
    path("v1/push", views.push, name="push"),
    path("v1/changes", views.changes, name="changes"),
    path("v1/heartbeat", views.heartbeat, name="heartbeat"),
    # Pages of the informatics directorate (people, not nodes).
    path("nodes/", pages.nodes, name="nodes"),
    path("conflicts/", pages.conflicts, name="conflicts"),
    path("conflicts/<uuid:pk>/", pages.conflict_detail, name="conflict"),
]
