"""The ledger models' verbose names, translated in the back office (model options only: no schema change)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0011_portal_activation'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='account',
            options={'ordering': ['code'], 'verbose_name': 'account', 'verbose_name_plural': 'accounts'},
        ),
        migrations.AlterModelOptions(
            name='accountbalance',
            options={'verbose_name': 'account balance', 'verbose_name_plural': 'account balances'},
        ),
        migrations.AlterModelOptions(
            name='balancecheckpoint',
            options={'verbose_name': 'balance checkpoint', 'verbose_name_plural': 'balance checkpoints'},
        ),
        migrations.AlterModelOptions(
            name='dayseal',
            options={'ordering': ['business_day'], 'verbose_name': 'day seal', 'verbose_name_plural': 'day seals'},
        ),
        migrations.AlterModelOptions(
            name='entry',
            options={'ordering': ['created_at', 'id'], 'verbose_name': 'entry', 'verbose_name_plural': 'entries'},
        ),
        migrations.AlterModelOptions(
            name='feerate',
            options={'ordering': ['-effective_from'], 'verbose_name': 'fee rate', 'verbose_name_plural': 'fee rates'},
        ),
        migrations.AlterModelOptions(
            name='holder',
            options={'verbose_name': 'holder', 'verbose_name_plural': 'holders'},
        ),
        migrations.AlterModelOptions(
            name='idempotencykey',
            options={'verbose_name': 'idempotency key', 'verbose_name_plural': 'idempotency keys'},
        ),
        migrations.AlterModelOptions(
            name='payment',
            options={'ordering': ['-created_at'], 'verbose_name': 'fee payment', 'verbose_name_plural': 'fee payments'},
        ),
        migrations.AlterModelOptions(
            name='portalactivation',
            options={'verbose_name': 'portal activation code', 'verbose_name_plural': 'portal activation codes'},
        ),
        migrations.AlterModelOptions(
            name='posting',
            options={'verbose_name': 'posting', 'verbose_name_plural': 'postings'},
        ),
        migrations.AlterModelOptions(
            name='refund',
            options={'ordering': ['created_at'], 'verbose_name': 'refund', 'verbose_name_plural': 'refunds'},
        ),
        migrations.AlterModelOptions(
            name='service',
            options={'ordering': ['code'], 'verbose_name': 'service', 'verbose_name_plural': 'services'},
        ),
        migrations.AlterModelOptions(
            name='wallet',
            options={'verbose_name': 'wallet', 'verbose_name_plural': 'wallets'},
        ),
    ]
