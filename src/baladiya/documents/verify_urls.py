from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "verify"
urlpatterns = [
    path("", not_ready, name="lookup"),
    path("upload/", not_ready, name="upload"),
    path("<str:number>/", not_ready, name="detail"),
]
