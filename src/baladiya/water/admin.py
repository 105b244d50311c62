from django.contrib import admin
from django.http import HttpRequest

from baladiya.water.models import Bill, ImportBatch, Slab, Subscription, Tariff


class SlabInline(admin.TabularInline):
    model = Slab
    extra = 0


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("category", "valid_from", "fixed_charge", "note")
    list_filter = ("category",)
    inlines = [SlabInline]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("meter_number", "subscriber", "category", "meter_status", "neighbourhood")
    list_filter = ("category", "meter_status")
    search_fields = ("meter_number", "subscriber__national_number")
    raw_id_fields = ("subscriber",)


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = ("subscription", "cycle", "consumption", "amount", "state", "estimated")
    list_filter = ("state", "estimated")
    search_fields = ("subscription__meter_number",)
    raw_id_fields = ("subscription",)


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Read-only: an import is made through the exchange page or the command line, with its
    checks and audit; the admin only shows what happened."""

    list_display = ("created_at", "kind", "file_name", "state", "rows", "created", "failed")
    list_filter = ("kind", "state")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
