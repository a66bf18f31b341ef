"""The system chart of accounts (codes and names in ledger/chart.py)."""

from django.db import migrations

from ledger.chart import ensure_system_chart


def create_chart(apps, schema_editor):
    ensure_system_chart(apps.get_model("ledger", "Account"))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_guards")]
    # Accounts with postings cannot be deleted (PROTECT), so the reverse is a no-op by design.
    operations = [migrations.RunPython(create_chart, migrations.RunPython.noop)]
