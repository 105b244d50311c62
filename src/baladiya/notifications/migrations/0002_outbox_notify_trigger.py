"""PostgreSQL only: NOTIFY the outbox pump when a message becomes pending (see
notifications/pump.py). A notification is sent at commit, never for a rolled-back row, and
PostgreSQL folds identical ones within a transaction. SQLite has no notifications: the pump
polls there, and this migration does nothing."""

from typing import Any

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION baladiya_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('baladiya_outbox', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""
TRIGGERS = """
CREATE TRIGGER baladiya_outbox_inserted
    AFTER INSERT ON notifications_outboxmessage
    FOR EACH ROW WHEN (NEW.state = 'pending')
    EXECUTE FUNCTION baladiya_outbox_notify();
CREATE TRIGGER baladiya_outbox_pending_again
    AFTER UPDATE OF state ON notifications_outboxmessage
    FOR EACH ROW WHEN (NEW.state = 'pending' AND OLD.state <> 'pending')
    EXECUTE FUNCTION baladiya_outbox_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS baladiya_outbox_pending_again ON notifications_outboxmessage;
DROP TRIGGER IF EXISTS baladiya_outbox_inserted ON notifications_outboxmessage;
DROP FUNCTION IF EXISTS baladiya_outbox_notify();
"""


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(TRIGGERS)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
