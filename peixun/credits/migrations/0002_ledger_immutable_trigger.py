"""On PostgreSQL the database itself refuses UPDATE and DELETE on ledger rows."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION credits_ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'credits_ledgerentry is append-only: ' || TG_OP || ' refused (post a reversal instead)',
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS credits_ledger_immutable ON credits_ledgerentry;
CREATE TRIGGER credits_ledger_immutable
    BEFORE UPDATE OR DELETE ON credits_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS credits_ledger_immutable ON credits_ledgerentry;
DROP FUNCTION IF EXISTS credits_ledger_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
