"""Statements and their lines refuse DELETE in the database: what a bank or the gateway reported is a record,
never removed. Since the lines' keys carry no constraint (0003), this is what stops a statement from being
deleted from under its lines by SQL that bypasses the ORM's PROTECT. (TRUNCATE, used by test set-ups, fires
no row trigger.)
"""

from django.db import migrations

TABLES = ("settlements_statement", "settlements_statementline")

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION settlements_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'settlements: DELETE on % is forbidden: imported statements are records, never removed',
    TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
"""


def install(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)  # its "%" are PL/pgSQL's, not placeholders
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION settlements_forbid_delete()"
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'settlements: DELETE on {table} is forbidden: imported statements are "
                "records, never removed'); END"
            )


def uninstall(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS settlements_forbid_delete()")


class Migration(migrations.Migration):
    dependencies = [("settlements", "0004_verbose_names")]
    operations = [migrations.RunPython(install, uninstall)]
