"""How the database connection is configured from the environment (decision 0015)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from baladiya.settings import database_from_env

PG_URL = "postgresql://baladiya:secret@db.example:5433/homs"


def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_statements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    monkeypatch.delenv("BALADIYA_DB_PREPARE_THRESHOLD", raising=False)
    db = database_from_env()
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == (
        "homs",
        "baladiya",
        "db.example",
        "5433",
    )
    assert db["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}


@pytest.mark.parametrize(("raw", "threshold"), [("off", None), ("OFF ", None), ("1", 1), ("", 5)])
def test_the_prepare_threshold_can_be_changed_or_turned_off(
    monkeypatch: pytest.MonkeyPatch, raw: str, threshold: int | None
) -> None:
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    monkeypatch.setenv("BALADIYA_DB_PREPARE_THRESHOLD", raw)
    assert database_from_env()["OPTIONS"] == {
        "server_side_binding": True,
        "prepare_threshold": threshold,
    }


def test_a_bad_prepare_threshold_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    monkeypatch.setenv("BALADIYA_DB_PREPARE_THRESHOLD", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="BALADIYA_DB_PREPARE_THRESHOLD"):
        database_from_env()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_postgresql_prepares_a_statement_once_it_has_run_five_times() -> None:
    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%-- prepare-threshold test%"],
            )
            return int(cursor.fetchone()[0])

    def look_up() -> None:  # a statement no other test runs (the connection outlives tests)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM centers_center WHERE code = %s -- prepare-threshold test\n",
                ["C03"],
            )

    before = prepared()
    for _ in range(5):
        look_up()
    assert prepared() == before  # five runs: parsed and planned each time
    look_up()
    assert prepared() == before + 1  # from the sixth on: prepared, parsed once
