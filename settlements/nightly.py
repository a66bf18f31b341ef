"""The nightly job (01:00 Asia/Muscat): import what waits in the inboxes, reconcile yesterday and every
other finished day the night's files book lines on, expire stale online top-ups, seal the ledger's finished
days, prove the books (``verify``), and report.

A statement is not always of yesterday alone: a bank statement may span a weekend, a file may come late.
Its lines are matched, settled or made exceptions on their booking day, so each (source, booking day) the
imported files hold is reconciled, in day order (the gateway before the bank on each day), as well as
yesterday for both sources. Lines booked on a day not over yet (today) wait: tomorrow night that day is
yesterday and is reconciled then.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from erial.errors import DomainError
from ledger.businessday import today
from ledger.sealing import seal_through
from ledger.verification import verify
from topups.services import expire_stale

from .importing import import_file
from .models import Source
from .reconciliation import reconcile_day

log = logging.getLogger(__name__)
#: Findings carried in the report (the Celery result); ``verify_ledger`` lists them all.
SHOWN_FINDINGS = 50


#: On each day the gateway runs first: it claims the bank credits that pay its batches.
SOURCE_ORDER = (Source.GATEWAY, Source.BANK)


@dataclass
class NightlyReport:
    business_day: dt.date
    imported: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    #: One per (day, source) reconciled, in the order run: ``{"day", "source", "status", "matched", ...}``.
    runs: list[dict] = field(default_factory=list)
    #: ``"bank 2025-01-17"``: lines of the night's files booked on a day not over yet, reconciled when it is.
    deferred: list[str] = field(default_factory=list)
    expired_topups: int = 0
    sealed_days: list[str] = field(default_factory=list)
    #: ``verify``'s findings after the night's work: empty when the books balance.
    books_findings: list[str] = field(default_factory=list)
    verify_seconds: float = 0.0

    @property
    def books_balance(self) -> bool:
        return not self.books_findings

    @property
    def days_reconciled(self) -> list[str]:
        return sorted({run["day"] for run in self.runs})

    @property
    def open_exceptions(self) -> int:
        """Exceptions open (or proposed) on the days reconciled tonight, all sources."""
        return sum(run["open_exceptions"] for run in self.runs)

    def as_dict(self) -> dict:
        return {
            "business_day": str(self.business_day),
            "imported": self.imported,
            "refused": self.refused,
            "days_reconciled": self.days_reconciled,
            "runs": self.runs,
            "open_exceptions": self.open_exceptions,
            "deferred": self.deferred,
            "expired_topups": self.expired_topups,
            "sealed_days": self.sealed_days,
            "books_balance": self.books_balance,
            "books_findings": self.books_findings[:SHOWN_FINDINGS],
            "verify_seconds": round(self.verify_seconds, 1),
        }


def import_inbox(
    inbox: Path, source: Source, report: NightlyReport, booked: set[tuple[dt.date, Source]] | None = None
) -> None:
    """Import every file waiting for ``source``; move each to processed/ or refused/ so none is read twice.

    ``booked`` collects the (booking day, source) of every line imported.
    """
    folder = inbox / source.value
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            record = import_file(path, source=source)
            if booked is not None:
                booked.update((day, Source(record.source)) for day in record.booking_days)
            target, bucket = folder / "processed", report.imported
        except DomainError as refused:
            log.warning("statement file refused: %s", refused.detail)
            target, bucket = folder / "refused", report.refused
        target.mkdir(exist_ok=True)
        shutil.move(str(path), target / path.name)
        bucket.append(path.name)


def days_to_reconcile(
    day: dt.date, booked: set[tuple[dt.date, Source]], report: NightlyReport
) -> list[tuple[dt.date, Source]]:
    """``day`` for both sources and each finished (booking day, source) imported, in day order, the gateway
    first on each day; a day not over yet is left for the night after it (noted in ``report.deferred``).
    """
    finished = today()
    wanted = {(day, source) for source in SOURCE_ORDER}
    for booked_day, source in sorted(booked, key=lambda pair: (pair[0], SOURCE_ORDER.index(pair[1]))):
        if booked_day < finished:
            wanted.add((booked_day, source))
        elif (booked_day, source) not in wanted:
            report.deferred.append(f"{source.value} {booked_day}")
    return sorted(wanted, key=lambda pair: (pair[0], SOURCE_ORDER.index(pair[1])))


def run_nightly(day: dt.date | None = None) -> NightlyReport:
    day = day or today() - dt.timedelta(days=1)
    report = NightlyReport(business_day=day)
    booked: set[tuple[dt.date, Source]] = set()
    for source in SOURCE_ORDER:  # the gateway's batches are known before the bank lines that pay them
        import_inbox(settings.ERIAL_INBOX_DIR, source, report, booked)
    for run_day, source in days_to_reconcile(day, booked, report):
        run = reconcile_day(day=run_day, source=source)
        report.runs.append(
            {
                "day": str(run_day),
                "source": source.value,
                "status": run.status,
                "matched": run.matched,
                "settled": f"{run.settled_amount:.3f}",
                "open_exceptions": run.open_exceptions,
            }
        )
    report.expired_topups = expire_stale()
    report.sealed_days = [str(seal.business_day) for seal in seal_through(day)]
    # Every night, not only when finance asks: a drift is found the morning after, not at the year's audit.
    # Set-based: `verify_ledger` on the reconciliation benchmark's base (2.2 million entries) took 7.3 s here.
    started = time.monotonic()
    report.books_findings = verify().findings
    report.verify_seconds = time.monotonic() - started
    if report.books_balance:
        log.info("nightly reconciliation: %s", report.as_dict())
    else:
        log.error("nightly reconciliation: THE BOOKS DO NOT BALANCE: %s", report.as_dict())
    return report
