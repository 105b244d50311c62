"""Benchmark worker: documents issued per second, i.e. `issue_document` (QR + Typst render +
two Ed25519 signatures + store + the `issue`/`route_to_pickup` transitions and audit), for
applications already approved at the worker's center. Also times the stages inside it, the
PDF production alone (claims, QR, Typst, signatures; no database), and "render + sign +
store" as the issue defines a document issued: the signed PDF and its document row (number
taken from the gap-free series, holder, claims, PDF bytes and their SHA-256) committed, without
the workflow's transitions, history, SMS and audit events that `issue_document` adds.

Started by bench/run.py through common.run_workers (READY/GO protocol, one JSON line out).
Environment: BENCH_DOCS (documents per worker), BENCH_WORKER (index: worker i works at the
i-th center, so workers do not queue on one center's document numbers).
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import _db_server_cpu, worker
from counter_flow import Desk, timed_stages


def prepare() -> dict[str, Any]:
    n_docs = int(os.environ.get("BENCH_DOCS", "300"))
    desk = Desk.open(int(os.environ.get("BENCH_WORKER", "0")))
    ready = [desk.approved() for _ in range(n_docs + 1)]
    desk.issue(ready.pop())  # warm up: signing key, Typst compiler and its caches
    to_store = [desk.approved() for _ in range(STORED)]
    return {"desk": desk, "ready": ready, "to_store": to_store}


def run(state: dict[str, Any]) -> dict[str, Any]:
    desk: Desk = state["desk"]
    ready = state["ready"]
    stages: Counter[str] = Counter()
    with timed_stages(stages):
        started = time.perf_counter()
        for app in ready:
            desk.issue(app)
        seconds = time.perf_counter() - started
    n = len(ready)
    return {
        "count": n,
        "ms_per_document": round(1000 * seconds / n, 2),
        "stages_ms": {k: round(1000 * v / n, 2) for k, v in stages.items()},
    }


STORED = 100


def after(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "pdf_only_ms": _pdf_production(state["desk"], 100),
        "pdf_stored_ms": _pdf_stored(state["desk"], state["to_store"]),
    }


def _pdf_production(desk: Desk, n: int) -> dict[str, float]:
    """ms per signed PDF with no database (wall and CPU): what one core renders and signs."""
    from django.utils import timezone

    from baladiya.documents import services, signing
    from baladiya.documents.models import IssuedDocument

    doc = IssuedDocument.objects.filter(center=desk.center).latest("issued_at")
    key = signing.active_key()
    content = {k: v for k, v in doc.content.items() if k != "number"}
    template = doc.application.service.document_template
    now = timezone.now().replace(microsecond=0)
    render: Callable[[int], object] = lambda i: services._sign_and_render(  # noqa: E731
        f"{desk.center.code}-D99-{i:06d}", key, content, template, now
    )
    render(0)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(1, n + 1):
        render(i)
    return {
        "wall": round(1000 * (time.perf_counter() - started) / n, 2),
        "cpu": round(1000 * (time.process_time() - cpu) / n, 2),
    }


def _pdf_stored(desk: Desk, apps: list[Any]) -> dict[str, float]:
    """ms per document rendered, signed and stored (wall and CPU, this process + its database
    backend): the signed PDF for the next number of the center's series, and its row written
    and committed in one transaction by `store_document`, as `issue_document` stores it.
    Applications stay `approved` (this scratch database is thrown away): the transitions are
    not part of it."""
    from django.db import transaction
    from django.utils import timezone

    from baladiya.documents import services, signing

    key = signing.active_key()
    prefix = desk.center.code
    started, cpu, db_cpu = time.perf_counter(), time.process_time(), _db_server_cpu()
    for app in apps:
        issued_at = timezone.now().replace(microsecond=0)
        content = services._content(app, desk.clerk, issued_at)
        template = app.service.document_template
        signed = services._sign_and_render(
            services._expected_number(prefix), key, content, template, issued_at
        )
        with transaction.atomic():
            services.store_document(
                app, desk.clerk, key, content, template, issued_at, signed, prefix
            )
    n = len(apps)
    return {
        "wall": round(1000 * (time.perf_counter() - started) / n, 2),
        "cpu": round(1000 * (time.process_time() - cpu + _db_server_cpu() - db_cpu) / n, 2),
    }


if __name__ == "__main__":
    worker(prepare, run, after)
