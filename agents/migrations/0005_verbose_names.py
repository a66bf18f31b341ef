"""The agent network models' verbose names, translated in the back office (model options only: no schema change)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0004_open_session_function'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='cashier',
            options={'verbose_name': 'cashier', 'verbose_name_plural': 'cashiers'},
        ),
        migrations.AlterModelOptions(
            name='cashiersession',
            options={'ordering': ['-opened_at'], 'verbose_name': 'cashier session', 'verbose_name_plural': 'cashier sessions'},
        ),
        migrations.AlterModelOptions(
            name='cashtopup',
            options={'ordering': ['-created_at'], 'verbose_name': 'cash top-up', 'verbose_name_plural': 'cash top-ups'},
        ),
        migrations.AlterModelOptions(
            name='commissionrule',
            options={'ordering': ['-effective_from'], 'verbose_name': 'commission rule', 'verbose_name_plural': 'commission rules'},
        ),
        migrations.AlterModelOptions(
            name='limit',
            options={'ordering': ['kind', '-effective_from'], 'verbose_name': 'limit', 'verbose_name_plural': 'limits'},
        ),
        migrations.AlterModelOptions(
            name='office',
            options={'ordering': ['code'], 'verbose_name': 'office', 'verbose_name_plural': 'offices'},
        ),
        migrations.AlterModelOptions(
            name='officedaytotal',
            options={'verbose_name': 'office day total', 'verbose_name_plural': 'office day totals'},
        ),
    ]
