"""The finance back office: the finance and admin groups may use the admin pages of agents, top-ups and
reconciliation (see erial/backoffice.py, which also requires the role).

They read everything there; they add limits and commission rules (and correct or withdraw one not yet in
force); they move offices through their lifecycle and resolve reconciliation exceptions, both through the
services. Permissions are created here first: Django would only create them after the last migration.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["finance", "admin"]
APPS = ["agents", "topups", "settlements"]
EXTRA = [
    "add_limit",
    "change_limit",
    "delete_limit",
    "add_commissionrule",
    "change_commissionrule",
    "delete_commissionrule",
    "change_office",  # lifecycle actions
    "change_reconexception",  # maker-checker actions
]


def _permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for label in APPS:
        config = apps.get_app_config(label)
        config.models_module = True  # create_permissions skips app configs without models
        create_permissions(config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        config.models_module = None
    return Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith="view_") | (
        Permission.objects.filter(content_type__app_label__in=APPS, codename__in=EXTRA)
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = list(_permissions(apps, schema_editor))
    for name in GROUPS:
        Group.objects.get_or_create(name=name)[0].permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = list(_permissions(apps, schema_editor))
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("erial", "0001_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("agents", "0001_initial"),
        ("topups", "0001_initial"),
        ("settlements", "0001_initial"),
    ]
    operations = [migrations.RunPython(grant, revoke)]
