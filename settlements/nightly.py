"""The nightly job (01:00 Asia/Muscat): import what waits in the inboxes, reconcile yesterday, expire stale
online top-ups, seal the ledger's finished days, and report.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from erial.errors import DomainError
from ledger.businessday import today
from ledger.sealing import seal_through
from topups.services import expire_stale

from .importing import import_file
from .models import Source
from .reconciliation import reconcile_day

log = logging.getLogger(__name__)


@dataclass
class NightlyReport:
    business_day: dt.date
    imported: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    runs: dict[str, dict] = field(default_factory=dict)
    expired_topups: int = 0
    sealed_days: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "business_day": str(self.business_day),
            "imported": self.imported,
            "refused": self.refused,
            "runs": self.runs,
            "expired_topups": self.expired_topups,
            "sealed_days": self.sealed_days,
        }


def import_inbox(inbox: Path, source: Source, report: NightlyReport) -> None:
    """Import every file waiting for ``source``; move each to processed/ or refused/ so none is read twice."""
    folder = inbox / source.value
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            import_file(path, source=source)
            target, bucket = folder / "processed", report.imported
        except DomainError as refused:
            log.warning("statement file refused: %s", refused.detail)
            target, bucket = folder / "refused", report.refused
        target.mkdir(exist_ok=True)
        shutil.move(str(path), target / path.name)
        bucket.append(path.name)


def run_nightly(day: dt.date | None = None) -> NightlyReport:
    day = day or today() - dt.timedelta(days=1)
    report = NightlyReport(business_day=day)
    for source in (Source.GATEWAY, Source.BANK):  # the gateway first: it claims the bank credits of its batches
        import_inbox(settings.ERIAL_INBOX_DIR, source, report)
    for source in (Source.GATEWAY, Source.BANK):
        run = reconcile_day(day=day, source=source)
        report.runs[source.value] = {
            "status": run.status,
            "matched": run.matched,
            "settled": f"{run.settled_amount:.3f}",
            "open_exceptions": run.open_exceptions,
        }
    report.expired_topups = expire_stale()
    report.sealed_days = [str(seal.business_day) for seal in seal_through(day)]
    log.info("nightly reconciliation: %s", report.as_dict())
    return report
