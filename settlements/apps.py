from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = _("Settlements and reconciliation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger.verification import register_check

        from .checks import lines_name_missing_rows

        register_check("statement lines name rows that exist", lines_name_missing_rows)
