"""Municipal revenue by service and fee income for a period of business days (Asia/Muscat), read from the ledger.

Everything comes from the postings on the ``revenue.*`` accounts and on fee income, in one statement (one
snapshot): a service's revenue is what its account was credited, its refunds what it was debited, so net revenue is
exactly the change of the account's balance over the period. Fee income is attributed to the service whose revenue
account is in the same entry (a payment, or the refund that returns the fee); the total is fee income's own change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from erial.errors import InvalidRequest
from ledger.businessday import day_bounds, today
from ledger.chart import SystemAccount
from ledger.models import Account, Entry, EntryKind, Posting, Service

from .trial_balance import exact_amount_sql, to_amount

ZERO = Decimal("0.000")
REVENUE_PREFIX = "revenue."


@dataclass(frozen=True)
class ServiceRevenue:
    """One service over the period. ``fees`` is the fee income of its entries, net of fees returned."""

    code: str
    name_en: str
    name_ar: str
    account_code: str
    payments: int
    revenue: Decimal
    refund_count: int
    refunds: Decimal
    fees: Decimal

    @property
    def net(self) -> Decimal:
        return self.revenue - self.refunds


@dataclass(frozen=True)
class RevenueReport:
    start: dt.date
    end: dt.date
    #: Postings in [since, until) are counted.
    since: dt.datetime
    until: dt.datetime
    issued_at: dt.datetime
    services: tuple[ServiceRevenue, ...]
    #: Fee income's change over the period (credits less debits): what the ledger says.
    fee_income: Decimal
    #: Fee income in entries that credit no service's revenue (an adjustment): shown, so the fees add up.
    fees_unattributed: Decimal

    @property
    def payments(self) -> int:
        return sum(s.payments for s in self.services)

    @property
    def revenue(self) -> Decimal:
        return sum((s.revenue for s in self.services), ZERO)

    @property
    def refunds(self) -> Decimal:
        return sum((s.refunds for s in self.services), ZERO)

    @property
    def net(self) -> Decimal:
        return self.revenue - self.refunds

    @property
    def service_fees(self) -> Decimal:
        """Fee income tied to a service: with ``fees_unattributed``, the ledger's ``fee_income``."""
        return sum((s.fees for s in self.services), ZERO)


def check_period(start: dt.date, end: dt.date) -> None:
    """Refuse a period that ends before it starts or after today (Muscat)."""
    if end < start:
        raise InvalidRequest(
            f"The period ends ({end}) before it starts ({start}).", field="to", reason="period_reversed"
        )
    if end > today():
        raise InvalidRequest(
            f"The period ends in the future ({end}): a report covers days up to today.",
            field="to",
            reason="period_in_future",
        )


def revenue_report(start: dt.date, end: dt.date) -> RevenueReport:
    """Revenue, refunds and fee income per service for the business days ``start``..``end`` (both included)."""
    check_period(start, end)
    issued_at = timezone.now()
    since, until = day_bounds(start)[0], min(day_bounds(end)[1], issued_at)
    accounts = dict(Account.objects.filter(code__startswith=REVENUE_PREFIX).values_list("pk", "code"))
    services = {s.revenue_account_id: s for s in Service.objects.filter(revenue_account_id__in=accounts)}
    fee_account = Account.objects.values_list("pk", flat=True).get(code=SystemAccount.FEE_INCOME)
    revenue: dict[int, tuple] = {}
    fees: dict[int | None, Decimal] = {}
    fee_income = ZERO
    for part, account_id, payments, credits, debit_count, debits in _rows(list(accounts), fee_account, since, until):
        if part == "revenue":
            revenue[account_id] = (int(payments or 0), to_amount(credits), int(debit_count or 0), to_amount(debits))
        else:
            fees[account_id] = to_amount(credits) - to_amount(debits)
            fee_income += fees[account_id]
    lines = []
    for account_id, code in sorted(accounts.items(), key=lambda item: item[1]):
        service = services.get(account_id)
        payments, credits, refund_count, debits = revenue.get(account_id, (0, ZERO, 0, ZERO))
        lines.append(
            ServiceRevenue(
                code=service.code if service else code.removeprefix(REVENUE_PREFIX),
                name_en=service.name_en if service else code,
                name_ar=service.name_ar if service else code,
                account_code=code,
                payments=payments,
                revenue=credits,
                refund_count=refund_count,
                refunds=debits,
                fees=fees.get(account_id, ZERO),
            )
        )
    return RevenueReport(
        start=start,
        end=end,
        since=since,
        until=until,
        issued_at=issued_at,
        services=tuple(lines),
        fee_income=fee_income,
        fees_unattributed=fees.get(None, ZERO),
    )


def _rows(revenue_ids: list[int], fee_account: int, since: dt.datetime, until: dt.datetime) -> list[tuple]:
    """(part, account, count, credits, count of debits, debits): per revenue account its postings in the period,
    then fee income's postings per revenue account of their entry (None: no revenue account in the entry)."""
    posting, entry = Posting._meta.db_table, Entry._meta.db_table
    ids = ", ".join(["%s"] * len(revenue_ids)) or "NULL"
    amt = exact_amount_sql("p.amount")
    sql = f"""
    SELECT 'revenue', p.account_id, SUM(CASE WHEN {amt} < 0 AND e.kind = %s THEN 1 ELSE 0 END), {_sums(amt)}
    FROM {posting} p JOIN {entry} e ON e.id = p.entry_id
    WHERE p.account_id IN ({ids}) AND p.created_at >= %s AND p.created_at < %s
    GROUP BY p.account_id
    UNION ALL
    SELECT 'fee', f.service_account, 0, {_sums(exact_amount_sql("f.amount"))}
    FROM (SELECT p.amount, (SELECT MIN(r.account_id) FROM {posting} r
                            WHERE r.entry_id = p.entry_id AND r.account_id IN ({ids})) AS service_account
          FROM {posting} p WHERE p.account_id = %s AND p.created_at >= %s AND p.created_at < %s) f
    GROUP BY f.service_account
    """
    ops = connection.ops
    bounds = [ops.adapt_datetimefield_value(since), ops.adapt_datetimefield_value(until)]
    params = [EntryKind.FEE_PAYMENT.value, *revenue_ids, *bounds, *revenue_ids, fee_account, *bounds]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sums(amount: str) -> str:
    """Credits, the number of debits and debits of an amount expression."""
    return (
        f"SUM(CASE WHEN {amount} < 0 THEN -{amount} ELSE 0 END), "
        f"SUM(CASE WHEN {amount} > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN {amount} > 0 THEN {amount} ELSE 0 END)"
    )
