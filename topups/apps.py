from django.apps import AppConfig


class TopupsConfig(AppConfig):
    name = "topups"
    verbose_name = "Online top-ups"
    default_auto_field = "django.db.models.BigAutoField"
