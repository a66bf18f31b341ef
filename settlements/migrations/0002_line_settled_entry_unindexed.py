"""The settlement entry of a statement line loses its index: no query looks lines up by it (entries are
append-only, so no delete needs it either), and a million-line day would maintain it for nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("settlements", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statementline",
            name="settled_entry",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="ledger.entry",
            ),
        ),
    ]
