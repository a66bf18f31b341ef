"""Finance corrects a cash top-up credited to the wrong wallet (``agents.TopupCorrection``, maker-checker): the
finance and admin groups read the corrections, and may add (propose) and change (approve or reject) them, which the
back office allows only to the finance role and does only through ``agents.corrections``. Nobody deletes one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["finance", "admin"]
CODENAMES = ["view_topupcorrection", "add_topupcorrection", "change_topupcorrection"]


def _permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    config = apps.get_app_config("agents")
    config.models_module = True  # create_permissions skips app configs without models
    create_permissions(config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    config.models_module = None
    return list(Permission.objects.filter(content_type__app_label="agents", codename__in=CODENAMES))


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
    dependencies = [("erial", "0004_finance_reads_the_ledger"), ("agents", "0006_topup_correction")]
    operations = [migrations.RunPython(grant, revoke)]
