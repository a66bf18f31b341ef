from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ErialConfig(AppConfig):
    name = "erial"
    verbose_name = _("e-Rial")
