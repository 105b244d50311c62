from django.urls import path

from baladiya.core.placeholders import not_ready

app_name = "payments"
urlpatterns = [
    path("", not_ready, name="cashier"),
    path("session/open/", not_ready, name="open_session"),
    path("session/close/", not_ready, name="close_session"),
    path("pay/<str:reference>/", not_ready, name="take_payment"),
    path("receipts/<str:number>/", not_ready, name="receipt"),
    path("receipts/<str:number>.pdf", not_ready, name="receipt_pdf"),
    path("receipts/<str:number>/refund/", not_ready, name="refund"),
    path("reconciliation/", not_ready, name="reconciliation"),
]
