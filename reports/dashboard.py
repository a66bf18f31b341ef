"""The finance dashboard's figures: top-ups by channel and day, payments by service, agents' floats, open
reconciliation exceptions by age.

Each figure is one aggregate query, whatever the number of rows behind it (no N+1), read from the records
that carry the money's business meaning (cash and online top-ups, payments and refunds, cached float
balances, exceptions); tests prove every total equals the ledger's postings. Amounts are exact 3-place
``Decimal``; days are Asia/Muscat business days, as everywhere in e-Rial.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Case, CharField, Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Abs, Coalesce

from agents.models import Office, OfficeKind, OfficeStatus
from erial.money import from_db, quantize
from ledger.models import AMOUNT, Entry, EntryKind, Refund, Service
from settlements.models import ExceptionKind, ExceptionStatus, ReconException

ZERO = Decimal("0.000")
#: The default period: the last 30 business days, today included.
DEFAULT_DAYS = 30
#: The longest period the dashboard draws day by day (a leap year).
MAX_PERIOD_DAYS = 366

CASH, BANK, CARD = "cash", "bank", "card"
#: Top-up channels in the order they are drawn: cash at offices and agents, the partner bank, the card gateway.
CHANNELS = (CASH, BANK, CARD)

#: Exception ages (days since the business day they concern): (key, from, to); None: no upper bound.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (("0-1", 0, 1), ("2-3", 2, 3), ("4-7", 4, 7), ("8+", 8, None))
#: An exception is open until resolved: a proposed resolution still waits for its checker.
UNRESOLVED = (ExceptionStatus.OPEN, ExceptionStatus.PROPOSED)
#: Exception kinds in the order they are drawn.
EXCEPTION_KINDS = tuple(ExceptionKind.values)


@dataclass(frozen=True)
class Period:
    """Business days ``start``..``end``, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def default_period(today: dt.date) -> Period:
    return Period(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)


# --- top-ups by channel -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopupDay:
    """What reached wallets on one business day, per channel (voided cash top-ups left out: they were undone)."""

    day: dt.date
    amounts: dict[str, Decimal]
    counts: dict[str, int]

    @property
    def total(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)


def topups_by_channel(period: Period) -> list[TopupDay]:
    """Every day of the period (zeros included), from the top-ups' own records: one grouped query."""
    rows = (
        Entry.objects.filter(
            business_day__range=(period.start, period.end), kind__in=[EntryKind.CASH_TOPUP, EntryKind.ONLINE_TOPUP]
        )
        .filter(Q(cash_topup__isnull=False, cash_topup__void_entry__isnull=True) | Q(online_topup__isnull=False))
        .annotate(
            channel=Case(
                When(cash_topup__isnull=False, then=Value(CASH)),
                default=F("online_topup__channel"),
                output_field=CharField(),
            )
        )
        .values("business_day", "channel")
        .annotate(
            count=Count("id"),
            total=Sum(Coalesce("cash_topup__amount", "online_topup__amount"), output_field=DecimalField(**AMOUNT)),
        )
        .order_by()
    )
    found = {(row["business_day"], row["channel"]): row for row in rows}
    days = []
    for day in period.days:
        cells = {channel: found.get((day, channel)) for channel in CHANNELS}
        days.append(
            TopupDay(
                day=day,
                amounts={channel: from_db(cell["total"]) if cell else ZERO for channel, cell in cells.items()},
                counts={channel: cell["count"] if cell else 0 for channel, cell in cells.items()},
            )
        )
    return days


# --- payments by service ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServicePayments:
    """Fee payments made in the period for one service, and what was refunded in the period on any payment of it."""

    code: str
    name_en: str
    name_ar: str
    count: int
    amount: Decimal
    fees: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        """The period's net municipal revenue of the service: paid, less refunded (fees are not revenue)."""
        return self.amount - self.refunded


def payments_by_service(period: Period) -> list[ServicePayments]:
    """Every service (zeros included), ordered by code: one query (refunds in a correlated subquery, so a
    refunded payment is never counted twice)."""
    days = (period.start, period.end)
    in_period = Q(payments__entry__business_day__range=days)
    refunded = (
        Refund.objects.filter(payment__service=OuterRef("pk"), entry__business_day__range=days)
        .order_by()
        .values("payment__service")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    rows = (
        Service.objects.annotate(
            paid_count=Count("payments", filter=in_period),
            paid_amount=Sum("payments__amount", filter=in_period),
            paid_fees=Sum("payments__fee", filter=in_period),
            refunded_amount=Subquery(refunded, output_field=DecimalField(**AMOUNT)),
        )
        .values("code", "name_en", "name_ar", "paid_count", "paid_amount", "paid_fees", "refunded_amount")
        .order_by("code")
    )
    return [
        ServicePayments(
            code=row["code"],
            name_en=row["name_en"],
            name_ar=row["name_ar"],
            count=row["paid_count"],
            amount=from_db(row["paid_amount"]) or ZERO,
            fees=from_db(row["paid_fees"]) or ZERO,
            refunded=from_db(row["refunded_amount"]) or ZERO,
        )
        for row in rows
    ]


# --- agents' floats ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FloatPosition:
    """An external agent's float now: positive is prefunded money, negative is credit in use."""

    code: str
    name_en: str
    name_ar: str
    status: str
    balance: Decimal
    credit_limit: Decimal
    near_limit: bool

    @property
    def headroom(self) -> Decimal:
        """How much more the agent can still top up before the ledger refuses it."""
        return self.balance + self.credit_limit


def float_positions(near_share: Decimal | None = None) -> list[FloatPosition]:
    """External agents not terminated, by code, from their cached float balances: one query.

    Near the limit: at least ``near_share`` (setting ``ERIAL_FLOAT_NEAR_LIMIT_SHARE``) of the credit limit
    used; an agent without credit is near it once its float is spent.
    """
    share = settings.ERIAL_FLOAT_NEAR_LIMIT_SHARE if near_share is None else near_share
    rows = (
        Office.objects.filter(kind=OfficeKind.EXTERNAL)
        .exclude(status=OfficeStatus.TERMINATED)
        .values(
            "code",
            "name_en",
            "name_ar",
            "status",
            balance=F("cash_account__cached_balance__balance"),
            floor=F("cash_account__cached_balance__floor"),
        )
        .order_by("code")
    )
    positions = []
    for row in rows:
        balance = from_db(row["balance"]) or ZERO
        credit_limit = -(from_db(row["floor"]) or ZERO)
        positions.append(
            FloatPosition(
                code=row["code"],
                name_en=row["name_en"],
                name_ar=row["name_ar"],
                status=row["status"],
                balance=balance,
                credit_limit=credit_limit,
                near_limit=balance <= -quantize(share * credit_limit),
            )
        )
    return positions


# --- reconciliation exceptions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExceptionCell:
    count: int = 0
    #: The amounts at stake, without their signs (a debit and a credit do not cancel out).
    amount: Decimal = ZERO


@dataclass(frozen=True)
class ExceptionAging:
    """Unresolved exceptions by kind and age bucket, as of ``today``."""

    today: dt.date
    cells: dict[tuple[str, str], ExceptionCell] = field(default_factory=dict)

    def cell(self, kind: str, bucket: str) -> ExceptionCell:
        return self.cells.get((kind, bucket), ExceptionCell())

    def bucket_count(self, bucket: str) -> int:
        return sum(cell.count for (_kind, key), cell in self.cells.items() if key == bucket)

    def kind_count(self, kind: str) -> int:
        return sum(cell.count for (key, _bucket), cell in self.cells.items() if key == kind)

    @property
    def count(self) -> int:
        return sum(cell.count for cell in self.cells.values())

    @property
    def amount(self) -> Decimal:
        return sum((cell.amount for cell in self.cells.values()), ZERO)


def open_exceptions_by_age(today: dt.date) -> ExceptionAging:
    """Age = days from the exception's business day to ``today``; grouped in the database: one query."""
    whens = [
        When(business_day__gte=today - dt.timedelta(days=upper), then=Value(key))
        for key, _lower, upper in AGE_BUCKETS
        if upper is not None
    ]
    oldest = AGE_BUCKETS[-1][0]
    rows = (
        ReconException.objects.filter(status__in=UNRESOLVED)
        .annotate(age=Case(*whens, default=Value(oldest), output_field=CharField()))
        .values("kind", "age")
        .annotate(count=Count("id"), at_stake=Sum(Abs("amount"), output_field=DecimalField(**AMOUNT)))
        .order_by()
    )
    cells = {
        (row["kind"], row["age"]): ExceptionCell(count=row["count"], amount=from_db(row["at_stake"]) or ZERO)
        for row in rows
    }
    return ExceptionAging(today=today, cells=cells)


# --- all of it ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    period: Period
    topups: list[TopupDay]
    payments: list[ServicePayments]
    floats: list[FloatPosition]
    exceptions: ExceptionAging


def dashboard(period: Period, *, today: dt.date) -> Dashboard:
    """The four figures: four queries."""
    return Dashboard(
        period=period,
        topups=topups_by_channel(period),
        payments=payments_by_service(period),
        floats=float_positions(),
        exceptions=open_exceptions_by_age(today),
    )
