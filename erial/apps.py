from django.apps import AppConfig


class ErialConfig(AppConfig):
    name = "erial"
    verbose_name = "e-Rial"
