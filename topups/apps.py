from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TopupsConfig(AppConfig):
    name = "topups"
    verbose_name = _("Online top-ups")
    default_auto_field = "django.db.models.BigAutoField"
