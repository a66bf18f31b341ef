"""Reads of reconciliation: how old an exception is, and the exceptions outstanding on a day.

The age buckets are shared by the back office's queue filter and the reconciliation report, so finance sees
the same "4-7 days" on the screen and on paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from ledger.businessday import day_bounds

from .models import ExceptionStatus, ReconException


@dataclass(frozen=True)
class AgeBucket:
    """Exceptions ``low``..``high`` days old (both included; ``high`` None: no upper bound)."""

    key: str
    low: int
    high: int | None

    def holds(self, days: int) -> bool:
        return days >= self.low and (self.high is None or days <= self.high)

    def days_range(self, on: dt.date) -> Q:
        """Exceptions whose business day puts them in this bucket on day ``on``."""
        condition = Q(business_day__lte=on - dt.timedelta(days=self.low))
        if self.high is not None:
            condition &= Q(business_day__gte=on - dt.timedelta(days=self.high))
        return condition


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("0-1", 0, 1),
    AgeBucket("2-3", 2, 3),
    AgeBucket("4-7", 4, 7),
    AgeBucket(">7", 8, None),
)
#: Still waiting for finance (a proposal is not a resolution until someone else approves it).
OPEN_STATUSES = (ExceptionStatus.OPEN, ExceptionStatus.PROPOSED)


def age_in_days(exception: ReconException, on: dt.date) -> int:
    """Days between the exception's business day and ``on`` (0 on the day itself)."""
    return max((on - exception.business_day).days, 0)


def bucket_of(days: int) -> AgeBucket:
    return next(bucket for bucket in AGE_BUCKETS if bucket.holds(days))


def outstanding_on(day: dt.date, source: str) -> QuerySet[ReconException]:
    """Every exception of ``source`` that finance had on its plate on ``day``: raised for that day or before,
    and not resolved before the day began (those resolved since count as resolved, the rest as open).
    """
    start, _ = day_bounds(day)
    return ReconException.objects.filter(source=source, business_day__lte=day).filter(
        Q(status__in=OPEN_STATUSES) | Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
