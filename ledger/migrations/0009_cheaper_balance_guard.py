"""One zero-sum check per entry at COMMIT instead of one per posting (same guarantee, a third of the work)."""

from django.db import migrations

from ledger import guards


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_entry_reference")]
    operations = [migrations.RunPython(guards.refresh_functions, migrations.RunPython.noop)]
