from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "documents"
urlpatterns = [
    path("issue/<str:reference>/", not_ready, name="issue"),
    path("<str:number>.pdf", not_ready, name="pdf"),
    path("<str:number>/revoke/", not_ready, name="revoke"),
]
