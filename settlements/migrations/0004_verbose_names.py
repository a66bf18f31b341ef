"""The settlement models' verbose names, translated in the back office (model options only: no schema change)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('settlements', '0003_line_keys_without_constraint'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='gatewaybatch',
            options={'verbose_name': 'gateway batch', 'verbose_name_plural': 'gateway batches'},
        ),
        migrations.AlterModelOptions(
            name='reconciliationrun',
            options={'ordering': ['-business_day', 'source'], 'verbose_name': 'reconciliation run', 'verbose_name_plural': 'reconciliation runs'},
        ),
        migrations.AlterModelOptions(
            name='reconexception',
            options={'ordering': ['created_at'], 'verbose_name': 'reconciliation exception', 'verbose_name_plural': 'reconciliation exceptions'},
        ),
        migrations.AlterModelOptions(
            name='resolution',
            options={'ordering': ['proposed_at'], 'verbose_name': 'resolution', 'verbose_name_plural': 'resolutions'},
        ),
        migrations.AlterModelOptions(
            name='statement',
            options={'verbose_name': 'statement', 'verbose_name_plural': 'statements'},
        ),
        migrations.AlterModelOptions(
            name='statementfile',
            options={'ordering': ['-imported_at'], 'verbose_name': 'statement file', 'verbose_name_plural': 'statement files'},
        ),
        migrations.AlterModelOptions(
            name='statementline',
            options={'verbose_name': 'statement line', 'verbose_name_plural': 'statement lines'},
        ),
    ]
