from django.urls import path

from baladiya.documents import views

app_name = "verify"
urlpatterns = [
    path("", views.verify_lookup, name="lookup"),
    path("upload/", views.verify_upload, name="upload"),
    path("<str:number>/", views.verify_detail, name="detail"),
]
