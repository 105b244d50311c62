from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "accounts"
urlpatterns = [
    path("login/", not_ready, name="login"),
    path("logout/", not_ready, name="logout"),
]
