from django.apps import AppConfig


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = "Settlements and reconciliation"
    default_auto_field = "django.db.models.BigAutoField"
