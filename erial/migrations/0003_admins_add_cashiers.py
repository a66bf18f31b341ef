"""Admins add cashiers in the back office (a new login for one office) and say who supervises: the admin group
gets the cashier permissions. Finance does not: staffing the counters is not a finance task.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["add_cashier", "change_cashier"]


def _permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    config = apps.get_app_config("agents")
    config.models_module = True  # create_permissions skips app configs without models
    create_permissions(config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    config.models_module = None
    return list(Permission.objects.filter(content_type__app_label="agents", codename__in=CODENAMES))


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="admin")[0].permissions.add(*_permissions(apps, schema_editor))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="admin"):
        group.permissions.remove(*_permissions(apps, schema_editor))


class Migration(migrations.Migration):
    dependencies = [("erial", "0002_back_office_permissions")]
    operations = [migrations.RunPython(grant, revoke)]
