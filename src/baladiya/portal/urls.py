from django.urls import path

from baladiya.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("services/", views.services_list, name="services"),
    path("services/<str:code>/", views.service_detail, name="service"),
    path("services/<str:code>/apply/", views.apply, name="apply"),
    path("track/", views.track, name="track"),
    path("login/", views.login, name="login"),
    path("login/code/", views.verify, name="verify"),
    path("logout/", views.logout, name="logout"),
    path("profile/", views.profile, name="profile"),
    path("applications/", views.applications, name="applications"),
    path("applications/<str:reference>/", views.application, name="application"),
    path("applications/<str:reference>/correct/", views.correct, name="correct"),
    path("applications/<str:reference>/cancel/", views.cancel, name="cancel"),
    path(
        "applications/<str:reference>/receipts/<str:number>.pdf",
        views.receipt_pdf,
        name="receipt_pdf",
    ),
    path("applications/<str:reference>/document.pdf", views.document_pdf, name="document_pdf"),
]
