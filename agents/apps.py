from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agent network")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ledger.office_acts import register_office_check

        from .services import refuse_if_office_inactive

        register_office_check(refuse_if_office_inactive)
