"""The online top-up models' verbose names, translated in the back office (model options only: no schema change)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('topups', '0003_started_once_per_key'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='callbacknonce',
            options={'verbose_name': 'callback nonce', 'verbose_name_plural': 'callback nonces'},
        ),
        migrations.AlterModelOptions(
            name='historicalonlinetopup',
            options={'get_latest_by': ('history_date', 'history_id'), 'ordering': ('-history_date', '-history_id'), 'verbose_name': 'historical online top-up', 'verbose_name_plural': 'historical online top-ups'},
        ),
        migrations.AlterModelOptions(
            name='onlinetopup',
            options={'ordering': ['-created_at'], 'verbose_name': 'online top-up', 'verbose_name_plural': 'online top-ups'},
        ),
        migrations.AlterModelOptions(
            name='rejectedcallback',
            options={'ordering': ['-received_at'], 'verbose_name': 'rejected callback', 'verbose_name_plural': 'rejected callbacks'},
        ),
    ]
