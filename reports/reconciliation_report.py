"""The reconciliation report of one business day and one source (bank or card gateway): the data.

What finance signs off each morning: the statement lines imported for the day, how many were matched and
settled, what is left as exceptions, and how old the queue is. The lines' figures tie out: matched,
exception, resolved and unmatched lines add up to the lines imported, in count and in amount. Exceptions
are those outstanding on the day (``settlements.selectors.outstanding_on``), grouped by kind and by age
(days from their business day to the report's day), open (open or proposed) vs resolved since; both
groupings cover the same exceptions, so their totals are equal. ``reports.reconciliation_pdf`` prints it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from erial.errors import InvalidRequest
from erial.money import format_amount, from_db
from ledger.businessday import today
from settlements.models import ExceptionKind, LineStatus, ReconciliationRun, Source, StatementLine
from settlements.selectors import AGE_BUCKETS, OPEN_STATUSES, age_in_days, bucket_of, outstanding_on

ZERO = Decimal("0.000")


@dataclass(frozen=True)
class Tally:
    """How many, and how much (OMR, signed: a bank debit counts negative)."""

    count: int = 0
    amount: Decimal = ZERO

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.amount + other.amount)

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "amount": format_amount(self.amount)}


@dataclass(frozen=True)
class ExceptionRow:
    """One row of an exceptions table: a kind or an age bucket, open vs resolved."""

    key: str
    open: Tally = field(default_factory=Tally)
    resolved: Tally = field(default_factory=Tally)

    @property
    def total(self) -> Tally:
        return self.open + self.resolved

    def __add__(self, other: ExceptionRow) -> ExceptionRow:
        return ExceptionRow(self.key, self.open + other.open, self.resolved + other.resolved)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "open": self.open.as_json(), "resolved": self.resolved.as_json()}


@dataclass(frozen=True)
class RunSummary:
    status: str
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    matched: int
    settled_amount: Decimal
    open_exceptions: int


@dataclass(frozen=True)
class ReconciliationReport:
    day: dt.date
    source: str
    issued_at: dt.datetime
    #: The day's run as it last finished; None when the day was never reconciled.
    run: RunSummary | None
    imported: Tally
    #: Lines by status, every status present (LineStatus order): they add up to ``imported``.
    lines: dict[str, Tally]
    #: Lines settled (moved from clearing to the bank by a settlement entry, or resolved by finance).
    settled: Tally
    #: Card gateway only: the gross of its transactions and the fees the gateway kept (amount = gross - fee).
    gross: Decimal | None
    fees: Decimal | None
    by_kind: list[ExceptionRow]
    by_age: list[ExceptionRow]

    @property
    def matched(self) -> Tally:
        return self.lines[LineStatus.MATCHED]

    @property
    def exceptions(self) -> ExceptionRow:
        """All the exceptions outstanding on the day (the total of either table)."""
        return sum(self.by_kind, ExceptionRow("total"))

    def as_json(self) -> dict[str, Any]:
        run = self.run
        return {
            "day": self.day.isoformat(),
            "source": self.source,
            "issued_at": self.issued_at.isoformat(),
            "currency": "OMR",
            "run": None
            if run is None
            else {
                "status": run.status,
                "attempts": run.attempts,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "matched": run.matched,
                "settled_amount": format_amount(run.settled_amount),
                "open_exceptions": run.open_exceptions,
            },
            "lines": {
                "imported": self.imported.as_json(),
                **{status: tally.as_json() for status, tally in self.lines.items()},
                "settled": self.settled.as_json(),
                "gross": None if self.gross is None else format_amount(self.gross),
                "fees": None if self.fees is None else format_amount(self.fees),
            },
            "exceptions": {
                "by_kind": [row.as_json() for row in self.by_kind],
                "by_age": [row.as_json() for row in self.by_age],
                "total": self.exceptions.as_json(),
            },
        }


def parse_source(raw: object) -> str:
    """``bank`` or ``gateway``; anything else is refused, naming the field."""
    if raw in Source.values:
        return str(raw)
    raise InvalidRequest(f"source is {' or '.join(Source.values)}, not {raw!r}.", field="source")


def check_day(day: dt.date) -> dt.date:
    """A day that has begun (Asia/Muscat): a future day has nothing to reconcile."""
    if day > today():
        raise InvalidRequest(f"The day {day} is in the future: a report covers days up to today.", field="day")
    return day


def reconciliation_report(*, day: dt.date, source: str) -> ReconciliationReport:
    """The report of ``day`` for ``source``, read now; refuses a future day or an unknown source."""
    source = parse_source(source)
    check_day(day)
    lines = StatementLine.objects.filter(source=source, booking_date=day)
    by_status = {
        row["status"]: Tally(row["n"], from_db(row["total"]) or ZERO)
        for row in lines.order_by().values("status").annotate(n=Count("id"), total=Sum("amount"))
    }
    statuses = {status: by_status.get(status, Tally()) for status in LineStatus.values}
    settled = lines.filter(settled_entry__isnull=False).aggregate(n=Count("id"), total=Sum("amount"))
    gross = fees = None
    if source == Source.GATEWAY:
        sums = lines.aggregate(gross=Sum("gross"), fees=Sum("fee"))
        gross, fees = from_db(sums["gross"]) or ZERO, from_db(sums["fees"]) or ZERO
    by_kind, by_age = _exceptions(day, source)
    return ReconciliationReport(
        day=day,
        source=source,
        issued_at=timezone.now(),
        run=_run(day, source),
        imported=sum(statuses.values(), Tally()),
        lines=statuses,
        settled=Tally(settled["n"], from_db(settled["total"]) or ZERO),
        gross=gross,
        fees=fees,
        by_kind=by_kind,
        by_age=by_age,
    )


def _run(day: dt.date, source: str) -> RunSummary | None:
    run = ReconciliationRun.objects.filter(business_day=day, source=source).first()
    if run is None:
        return None
    return RunSummary(
        status=run.status,
        attempts=run.attempts,
        started_at=run.started_at,
        finished_at=run.finished_at,
        matched=run.matched,
        settled_amount=from_db(run.settled_amount),
        open_exceptions=run.open_exceptions,
    )


def _exceptions(day: dt.date, source: str) -> tuple[list[ExceptionRow], list[ExceptionRow]]:
    """The outstanding exceptions, by kind (every kind listed) and by age bucket (every bucket listed)."""
    kinds = {kind: ExceptionRow(kind) for kind in ExceptionKind.values}
    ages = {bucket.key: ExceptionRow(bucket.key) for bucket in AGE_BUCKETS}
    for exception in outstanding_on(day, source).only("kind", "amount", "status", "business_day").iterator():
        tally = Tally(1, from_db(exception.amount))
        if exception.status in OPEN_STATUSES:
            one = ExceptionRow(exception.kind, open=tally)
        else:
            one = ExceptionRow(exception.kind, resolved=tally)
        kinds[exception.kind] = kinds.get(exception.kind, ExceptionRow(exception.kind)) + one
        key = bucket_of(age_in_days(exception, day)).key
        ages[key] = ages[key] + one
    return list(kinds.values()), list(ages.values())
