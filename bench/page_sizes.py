"""Benchmark: bytes transferred (gzip, as a browser receives them) by the main portal pages,
each page with every stylesheet and script it loads, on the Homs demo (seed + 150 demo
applications, some online). Issue 3's budget: 60 KB per page. Prints one JSON line.

    BALADIYA_TESTING=1 .venv/bin/python bench/page_sizes.py
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import fresh_database, setup_django

ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="([^"]+)"')


def main() -> None:
    setup_django(fresh_database("sqlite"))
    from django.test import Client
    from django.urls import reverse

    from baladiya.accounts.models import User
    from baladiya.applications.models import Application
    from baladiya.core.seed.demo import generate_demo

    generate_demo(count=150, seed=2026)
    citizen_user = User.objects.filter(citizen__isnull=False).order_by("username").first()
    assert citizen_user is not None, "the demo seeds citizen accounts"
    app = Application.objects.filter(applicant=citizen_user.citizen, channel="online").first()
    assert app is not None
    service_code = app.service.code
    anonymous, citizen = Client(), Client()
    citizen.force_login(citizen_user)
    assets: dict[str, int] = {}

    def asset_size(path: str) -> int:
        if path not in assets:
            response = anonymous.get(path, HTTP_ACCEPT_ENCODING="gzip")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if response.get("Content-Encoding") != "gzip":
                body = gzip.compress(body)  # what any server compressing text sends
            assets[path] = len(body)
        return assets[path]

    def transferred(client: Client, url: str) -> dict[str, int]:
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200, (url, response.status_code)
        gzipped = response.get("Content-Encoding") == "gzip"
        html = (gzip.decompress(response.content) if gzipped else response.content).decode()
        page = len(response.content)
        linked = sum(asset_size(a) for a in ASSET.findall(html) if a.startswith("/"))
        return {"page": page, "with_assets": page + linked}

    pages = {
        "home": transferred(anonymous, reverse("portal:home")),
        "services": transferred(anonymous, reverse("portal:services")),
        "service": transferred(anonymous, reverse("portal:service", args=[service_code])),
        "login": transferred(anonymous, reverse("portal:login")),
        "track": transferred(anonymous, reverse("portal:track")),
        "apply": transferred(citizen, reverse("portal:apply", args=[service_code])),
        "my applications": transferred(citizen, reverse("portal:applications")),
        "application": transferred(citizen, reverse("portal:application", args=[app.reference])),
    }
    print(json.dumps({"budget_bytes": 60 * 1024, "assets": assets, "pages": pages}))


if __name__ == "__main__":
    main()
