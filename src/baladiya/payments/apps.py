from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "baladiya.payments"
    label = "payments"
    verbose_name = "Payments"
