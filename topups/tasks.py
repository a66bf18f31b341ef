"""Celery tasks of online top-ups: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task
def expire_stale_topups() -> int:
    """Every few minutes: initiated top-ups past their time become expired."""
    return services.expire_stale()
