"""Receipt numbers on payments and refunds (existing rows get fresh ones before the column turns unique)."""

from django.db import migrations, models

import ledger.receipts


def fill(apps, schema_editor):
    for name in ("Payment", "Refund"):
        model = apps.get_model("ledger", name)
        for row in model.objects.filter(receipt_number__isnull=True):
            row.receipt_number = ledger.receipts.new_receipt_number()
            row.save(update_fields=["receipt_number"])


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_services_and_fee")]
    operations = [
        migrations.AddField("payment", "receipt_number", models.CharField(max_length=16, null=True)),
        migrations.AddField("refund", "receipt_number", models.CharField(max_length=16, null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            "payment", "receipt_number",
            models.CharField(default=ledger.receipts.new_receipt_number, max_length=16, unique=True),
        ),
        migrations.AlterField(
            "refund", "receipt_number",
            models.CharField(default=ledger.receipts.new_receipt_number, max_length=16, unique=True),
        ),
    ]
