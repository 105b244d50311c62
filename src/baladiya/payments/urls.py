from django.urls import path

from baladiya.payments import views
from baladiya.payments.gateways import views as online

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
    # online payment (payments/gateways)
    path("online/return/", online.online_return, name="online_return"),
    path("online/<str:reference>/start/", online.online_start, name="online_start"),
    path("gateways/<slug:gateway>/webhook/", online.gateway_webhook, name="gateway_webhook"),
    path("sandbox/pay/<str:payment_id>/", online.sandbox_pay, name="sandbox_pay"),
    path("settlements/", online.settlements, name="settlements"),
    path("online/intents/<uuid:pk>/refresh/", online.intent_refresh, name="intent_refresh"),
]
