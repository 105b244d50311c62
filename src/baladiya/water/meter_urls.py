"""Meter registration, ownership transfer and field inspections (see meter_views).

Under `/water/meters/` in the `water` namespace; names start with `meter_` so that they never
collide with the counter's (`views`) or the exchange's in the shared namespace."""

from django.urls import URLPattern, path

from baladiya.water import meter_views

urlpatterns: list[URLPattern] = [
    path(
        "<str:reference>/inspections/schedule/",
        meter_views.schedule,
        name="meter_inspection_schedule",
    ),
    path(
        "<str:reference>/inspections/<uuid:pk>/record/",
        meter_views.record,
        name="meter_inspection_record",
    ),
]
