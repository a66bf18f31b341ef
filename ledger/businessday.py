"""Business days: the Asia/Muscat calendar day, whatever the server's clock zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def business_day_of(moment: dt.datetime) -> dt.date:
    """The business day (Asia/Muscat date) an instant falls on."""
    return timezone.localtime(moment, business_zone()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC-aware instants [start, end) of a business day."""
    zone = business_zone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def today() -> dt.date:
    return business_day_of(timezone.now())
