"""The background pump's periodic jobs: due ones run, a failing one never stops the others."""

from __future__ import annotations

import pytest

from baladiya.core.periodic import Job, default_jobs, run_due


def test_due_jobs_run_once_per_interval_and_failures_are_reported() -> None:
    calls: list[str] = []

    def boom() -> str:
        raise RuntimeError("gateway down")

    jobs = [Job("ok", 3600, lambda: calls.append("ok") or "done"), Job("bad", 3600, boom)]
    lines: list[str] = []
    run_due(jobs, lines.append)
    run_due(jobs, lines.append)  # not due again within the hour
    assert calls == ["ok"]
    assert lines == ["ok: done", "bad: RuntimeError: gateway down"]


@pytest.mark.django_db
def test_the_default_jobs_run_on_an_empty_node() -> None:
    lines: list[str] = []
    run_due(default_jobs(), lines.append)
    assert not [line for line in lines if "Error" in line], lines
