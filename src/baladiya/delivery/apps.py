from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "baladiya.delivery"
    label = "delivery"
    verbose_name = "Delivery"
