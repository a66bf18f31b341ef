"""One office's business day, itemised for its PDF: every cashier session, cash top-up and void, the totals,
and what the office's own ledger accounts say about the same day.

The itemised lines come from the counter's records (receipt numbers, wallets, cashiers); the ``ledger`` part is
read from the postings on the office's drawer or float and its commission payable. The two are independent
reads of one truth: the report prints both, and the tests prove the top-up totals equal the postings.
``agents.selectors.office_day_report`` stays the API's summary; this is the detail a supervisor signs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from agents.models import CashierSession, CashTopup, Office, SessionStatus
from erial.errors import InvalidRequest
from erial.money import from_db
from ledger.businessday import day_bounds, today
from ledger.models import EntryKind, Posting
from ledger.selectors import balance

ZERO = Decimal("0.000")


@dataclass(frozen=True, slots=True)
class DayTopup:
    """A cash top-up as the day report lists it; ``voided_at`` is set when the cashier took it back."""

    receipt_number: str
    created_at: dt.datetime
    wallet: str
    cashier: str
    amount: Decimal
    commission: Decimal
    voided_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DaySession:
    """A cashier session of the day: its cash, its top-ups kept, and the count when it was closed."""

    cashier: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    opening_cash: Decimal
    topup_count: int
    topup_amount: Decimal
    #: Set once closed: opening cash plus top-ups kept, the count, and counted less expected.
    expected_cash: Decimal | None
    counted_cash: Decimal | None
    difference: Decimal | None
    note: str


@dataclass(frozen=True, slots=True)
class DayLedger:
    """The office's drawer or float on that day, from its postings, in the account's normal sign."""

    account_code: str
    opening: Decimal
    #: Cash top-ups less their voids (and any other correction of a top-up): what the counter took, net.
    topups: Decimal
    over_short: Decimal
    deposits: Decimal
    other: Decimal
    closing: Decimal
    #: Commission payable accrued less clawed back (external agents; zero for internal offices).
    commission: Decimal


@dataclass(frozen=True)
class OfficeDay:
    office: Office
    day: dt.date
    issued_at: dt.datetime
    sessions: list[DaySession]
    #: Every top-up made that day, in time order (voided ones marked).
    topups: list[DayTopup]
    #: Every top-up voided that day, in the order of the voids.
    voids: list[DayTopup]
    ledger: DayLedger
    totals: dict[str, Decimal | int] = field(init=False)

    def __post_init__(self) -> None:
        gross = sum((t.amount for t in self.topups), ZERO)
        voided = sum((t.amount for t in self.voids), ZERO)
        earned = sum((t.commission for t in self.topups), ZERO) - sum((t.commission for t in self.voids), ZERO)
        totals = {
            "count": len(self.topups),
            "gross": gross,
            "void_count": len(self.voids),
            "voids": voided,
            "net": gross - voided,
            "commission": earned,
        }
        object.__setattr__(self, "totals", totals)


def check_day(day: dt.date) -> None:
    """A day report covers a day that has begun (Muscat time)."""
    if day > today():
        raise InvalidRequest(f"{day} has not happened yet: a day report covers days up to today.", field="day")


def office_day(office: Office, day: dt.date) -> OfficeDay:
    """The itemised day of ``office``; ``InvalidRequest`` for a day in the future."""
    check_day(day)
    start, end = day_bounds(day)
    rows = CashTopup.objects.select_related("wallet", "session__cashier__user")
    made = rows.filter(office=office, created_at__gte=start, created_at__lt=end).order_by("created_at", "id")
    voided = rows.filter(office=office, voided_at__gte=start, voided_at__lt=end).order_by("voided_at", "id")
    return OfficeDay(
        office=office,
        day=day,
        issued_at=timezone.now(),
        sessions=_sessions(office, day),
        topups=[_line(t) for t in made],
        voids=[_line(t) for t in voided],
        ledger=_ledger(office, start, end),
    )


def _line(topup: CashTopup) -> DayTopup:
    return DayTopup(
        receipt_number=topup.receipt_number,
        created_at=topup.created_at,
        wallet=topup.wallet.number,
        cashier=topup.session.cashier.user.get_username(),
        amount=topup.amount,
        commission=topup.commission,
        voided_at=topup.voided_at,
    )


def _sessions(office: Office, day: dt.date) -> list[DaySession]:
    kept = Q(topups__void_entry__isnull=True)
    sessions = (
        CashierSession.objects.filter(office=office, business_day=day)
        .select_related("cashier__user")
        .annotate(kept_count=Count("topups", filter=kept), kept_amount=Sum("topups__amount", filter=kept))
        .order_by("opened_at", "id")
    )
    result = []
    for s in sessions:
        closed = s.status == SessionStatus.CLOSED
        result.append(
            DaySession(
                cashier=s.cashier.user.get_username(),
                status=s.status,
                opened_at=s.opened_at,
                closed_at=s.closed_at,
                opening_cash=s.opening_cash,
                topup_count=s.kept_count,
                topup_amount=s.kept_amount or ZERO,
                expected_cash=s.expected_cash if closed else None,
                counted_cash=s.counted_cash if closed else None,
                difference=s.difference if closed else None,
                note=s.supervisor_note,
            )
        )
    return result


def _ledger(office: Office, start: dt.datetime, end: dt.datetime) -> DayLedger:
    """The day on the office's accounts, by what moved them. A void is a reversal of a cash top-up."""
    cash = office.cash_account
    of_topup = Q(entry__kind=EntryKind.CASH_TOPUP) | Q(
        entry__kind=EntryKind.REVERSAL, entry__reverses__kind=EntryKind.CASH_TOPUP
    )
    over_short = Q(entry__kind=EntryKind.ADJUSTMENT) & Exists(
        CashierSession.objects.filter(over_short_entry=OuterRef("entry"))
    )
    deposits = Q(entry__kind__in=[EntryKind.FLOAT_DEPOSIT, EntryKind.CASH_DEPOSIT])
    day = Posting.objects.filter(created_at__gte=start, created_at__lt=end)
    sums = day.filter(account=cash).aggregate(
        topups=Sum("amount", filter=of_topup),
        over_short=Sum("amount", filter=over_short),
        deposits=Sum("amount", filter=deposits),
        all=Sum("amount"),
    )
    sign = cash.normal_sign

    def signed(key: str) -> Decimal:
        return sign * (from_db(sums[key]) or ZERO)

    commission = ZERO
    if office.commission_account_id:
        paid = day.filter(of_topup, account_id=office.commission_account_id).aggregate(total=Sum("amount"))["total"]
        commission = -(from_db(paid) or ZERO)  # a liability: credits are commission owed
    opening = balance(cash, as_of=start)
    known = signed("topups") + signed("over_short") + signed("deposits")
    return DayLedger(
        account_code=cash.code,
        opening=opening,
        topups=signed("topups"),
        over_short=signed("over_short"),
        deposits=signed("deposits"),
        other=signed("all") - known,
        closing=opening + signed("all"),
        commission=commission,
    )
