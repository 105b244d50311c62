from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "baladiya.accounts"
    label = "accounts"
    verbose_name = "Accounts"
