"""Celery tasks of settlements: thin wrappers around services."""

from celery import shared_task

from .nightly import run_nightly


@shared_task
def nightly_reconciliation() -> dict:
    """01:00 Asia/Muscat (django-celery-beat): the night's whole job, reported as a dict."""
    return run_nightly().as_dict()
