"""Finance reads the ledger in the back office (accounts, entries, wallets and holders, payments, services,
seals, the fee schedule) and schedules a new fixed fee, which the README and issue 3 make theirs ("change it
without a deploy, from the admin"). Until now only superusers could open those pages: a finance officer could
not look up the payment or entry an exception is about. Reading only: money is written by services, the
ledger's admin pages offer no change or delete to anyone, and fee rates are add-only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["finance", "admin"]
EXTRA = ["add_feerate"]


def _permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    config = apps.get_app_config("ledger")
    config.models_module = True  # create_permissions skips app configs without models
    create_permissions(config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    config.models_module = None
    ledger = Permission.objects.filter(content_type__app_label="ledger")
    return list(ledger.filter(codename__startswith="view_") | ledger.filter(codename__in=EXTRA))


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps, schema_editor)
    for name in GROUPS:
        Group.objects.get_or_create(name=name)[0].permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps, schema_editor)
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("erial", "0003_admins_add_cashiers"), ("ledger", "0012_verbose_names")]
    operations = [migrations.RunPython(grant, revoke)]
