"""The payable services catalogue, the payouts-payable account, and the default fixed fee (0.100 OMR)."""

from django.db import migrations

from ledger.chart import ensure_services, ensure_system_chart


def create(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    ensure_system_chart(Account)
    ensure_services(Account, apps.get_model("ledger", "Service"), apps.get_model("ledger", "FeeRate"))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_wallets_and_payments")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
