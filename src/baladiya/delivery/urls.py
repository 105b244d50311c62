from django.urls import path

from baladiya.delivery import views
from baladiya.delivery.post import views as post

app_name = "delivery"
urlpatterns = [
    path("pickup/", views.pickup_queue, name="pickup_queue"),
    path("handover/<str:reference>/", views.handover, name="handover"),
    # Post: the day's dispatch list, sending, labels, the carrier's callback, the sandbox.
    path("post/", post.dispatch_list, name="dispatch_list"),
    path("post/dispatch/", post.dispatch_selected, name="dispatch_selected"),
    path("post/dispatch/<str:reference>/", post.dispatch, name="dispatch"),
    path("post/labels.pdf", post.labels, name="labels"),
    path("post/dispatch-list.pdf", post.dispatch_list_pdf, name="dispatch_list_pdf"),
    path("post/callback/", post.callback, name="post_callback"),
    path("post/sandbox/", post.sandbox_page, name="post_sandbox"),
]
