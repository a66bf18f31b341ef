"""A cashier's open session read by one PL/pgSQL function on PostgreSQL (agents/session_function.py says why)."""

from django.db import migrations

from agents import session_function


class Migration(migrations.Migration):
    dependencies = [("agents", "0003_terms_function")]
    operations = [migrations.RunPython(session_function.install, session_function.uninstall)]
