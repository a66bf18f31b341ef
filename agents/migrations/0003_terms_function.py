"""The terms of a cash top-up read by one PL/pgSQL function on PostgreSQL (agents/terms_function.py says why)."""

from django.db import migrations

from agents import terms_function


class Migration(migrations.Migration):
    dependencies = [("agents", "0002_office_day_total")]
    operations = [migrations.RunPython(terms_function.install, terms_function.uninstall)]
