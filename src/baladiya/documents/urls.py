from django.urls import path

from baladiya.documents import views

app_name = "documents"
urlpatterns = [
    path("issue/<str:reference>/", views.issue, name="issue"),
    path("<str:number>.pdf", views.pdf, name="pdf"),
    path("<str:number>/revoke/", views.revoke, name="revoke"),
]
