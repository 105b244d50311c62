"""PostgreSQL only: store the PDF bytes out of line without trying to compress them.

A signed PDF is already compressed (Typst deflates its streams), so PostgreSQL's default
(`EXTENDED`: try pglz, then move out of line) spends CPU on every insert only to give up:
measured 1.0 ms of the server's CPU per 56 KB document, 0.27 ms with `EXTERNAL` (decision
0014). SQLite has no such setting: this migration does nothing there."""

from typing import Any

from django.db import migrations

TABLE = "documents_issueddocument"


def _set_storage(schema_editor: Any, storage: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN pdf SET STORAGE {storage}")


def external(apps: Any, schema_editor: Any) -> None:
    _set_storage(schema_editor, "EXTERNAL")


def extended(apps: Any, schema_editor: Any) -> None:
    _set_storage(schema_editor, "EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(external, extended, elidable=False)]
