"""A payment refunded in full no longer holds its bill: the same bill may be paid again (by the right wallet,
after a refund of the wrong one). Payments refunded in full before this migration are marked from their refunds.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Max, Sum


def mark_refunded_in_full(apps, schema_editor):
    Payment = apps.get_model("ledger", "Payment")
    refunded = Payment.objects.annotate(refunded=Sum("refunds__amount"), last=Max("refunds__created_at"))
    for payment in refunded.filter(refunded__isnull=False).iterator():
        if payment.refunded == payment.amount:
            Payment.objects.filter(pk=payment.pk).update(refunded_in_full_at=payment.last)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0012_verbose_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="payment",
            name="ledger_payment_bill_once",
        ),
        migrations.AddField(
            model_name="payment",
            name="refunded_in_full_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(mark_refunded_in_full, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_instalment", False), ("refunded_in_full_at__isnull", True)),
                fields=("service", "bill_reference"),
                name="ledger_payment_bill_once",
            ),
        ),
    ]
