from django.urls import path

from baladiya.payments import views

app_name = "payments"
urlpatterns = [
    path("", views.cashier, name="cashier"),
    path("session/open/", views.open_session, name="open_session"),
    path("session/close/", views.close_session, name="close_session"),
    path("pay/<str:reference>/", views.take_payment, name="take_payment"),
    path("receipts/<str:number>.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("receipts/<str:number>/", views.receipt, name="receipt"),
    path("receipts/<str:number>/refund/", views.refund, name="refund"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
]
