"""Receipt numbers on online top-ups: drawn when a top-up is credited; those credited already get one here,
before the check that every completed top-up has one."""

from django.db import migrations, models

import ledger.receipts


def fill(apps, schema_editor):
    """A fresh number for each completed top-up, never one already issued (on either side of the fill)."""
    OnlineTopup = apps.get_model("topups", "OnlineTopup")
    taken = set(OnlineTopup.objects.exclude(receipt_number=None).values_list("receipt_number", flat=True))
    for topup in OnlineTopup.objects.filter(status="completed", receipt_number=None).only("pk"):
        number = ledger.receipts.new_receipt_number()
        while number in taken:
            number = ledger.receipts.new_receipt_number()
        taken.add(number)
        OnlineTopup.objects.filter(pk=topup.pk).update(receipt_number=number)


class Migration(migrations.Migration):
    dependencies = [("topups", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="historicalonlinetopup",
            name="receipt_number",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=16, null=True),
        ),
        migrations.AddField(
            model_name="onlinetopup",
            name="receipt_number",
            field=models.CharField(blank=True, editable=False, max_length=16, null=True, unique=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="onlinetopup",
            constraint=models.CheckConstraint(
                condition=models.Q(status="completed", receipt_number__isnull=False)
                | (~models.Q(status="completed") & models.Q(receipt_number__isnull=True)),
                name="topups_receipt_when_completed",
            ),
        ),
    ]
