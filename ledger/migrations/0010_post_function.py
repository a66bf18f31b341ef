"""post() on PostgreSQL in one database call (ledger/post_function.py says why and how)."""

from django.db import migrations

from ledger import post_function


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_cheaper_balance_guard")]
    operations = [migrations.RunPython(post_function.install, post_function.uninstall)]
