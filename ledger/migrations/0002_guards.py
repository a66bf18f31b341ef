"""Install the database guards (append-only triggers; zero-sum at commit on PostgreSQL)."""

from django.db import migrations

from ledger import guards


def install(apps, schema_editor):
    for sql in guards.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def uninstall(apps, schema_editor):
    for sql in guards.uninstall_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
