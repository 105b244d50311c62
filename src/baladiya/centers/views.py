"""Public page: the service centers, what they serve, their power, and the uncovered areas."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from baladiya.centers import services


@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    data = services.coverage()
    bars = services.chart_bars(data.centers, get_language() or "ar")
    return render(
        request,
        "centers/coverage.html",
        {
            "cov": data,
            "bars": bars,
            "chart_height": max(1, len(bars)) * services.CHART_ROW + 10,
            "chart_width": services.CHART_WIDTH,
        },
    )
