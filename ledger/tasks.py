"""Celery tasks of the ledger: thin wrappers around services."""

from celery import shared_task

from .sealing import seal_through


@shared_task
def seal_previous_day() -> list[str]:
    """Nightly (01:00 Asia/Muscat): seal every finished day not yet sealed."""
    return [seal.business_day.isoformat() for seal in seal_through()]
