"""e-Rial project package: settings, urls, the Celery app, money helpers and the error model."""

from .celery import app as celery_app

__all__ = ("celery_app",)
