"""The trial balance: every account of the chart with its balance in a debit or a credit column, at the end of any
business day (Asia/Muscat) or now, and the ledger totals that show it covers the whole ledger.

It is one aggregate statement over ``ledger_posting`` (grouped by account, bounded by ``created_at``), so the lines
and the totals come from one snapshot of the ledger and the cost stays that of one pass over the postings
(bench/trial_balance.py: within 1.5x of a plain ``GROUP BY account_id``). The ledger totals of sealed days are their
seals' (``ledger.sealing``), plus every posting since: that the lines count as many postings as the seals and the
days since hold is what shows the lines cover the whole ledger (``covers_ledger``). System accounts are shown one by
one; customer wallets, office cash drawers, agent floats and commission payables are many, so by default each kind
is one line (the sum of its debit balances and of its credit balances), or one line per account on request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from agents.models import Office
from erial.errors import InvalidRequest
from ledger.businessday import business_day_of, day_bounds, today
from ledger.models import Account, AccountKind, DaySeal, Entry, Posting

from . import labels

ZERO = Decimal("0.000")
#: Lines in the order of the balance sheet, then the income statement; a group of mixed kinds goes last.
KIND_ORDER = {
    kind.value: n
    for n, kind in enumerate(
        (AccountKind.ASSET, AccountKind.LIABILITY, AccountKind.EQUITY, AccountKind.INCOME, AccountKind.EXPENSE)
    )
}


class Group:
    """What a line of the trial balance stands for: one system account, or a kind of owned account."""

    SYSTEM = "system"
    WALLETS = "wallets"
    OFFICE_CASH = "office_cash"
    AGENT_FLOATS = "agent_floats"
    COMMISSION_PAYABLE = "commission_payable"
    OTHER = "other"

    #: The order of the grouped lines, after the system accounts.
    ORDER = (WALLETS, OFFICE_CASH, AGENT_FLOATS, COMMISSION_PAYABLE, OTHER)


@dataclass(frozen=True)
class Line:
    """One line: an account (``code``) or a group of accounts (``code`` is the group).

    ``debit`` is the sum of the debit balances on the line and ``credit`` the sum of the credit balances, so the
    grouped and the detailed trial balance have the same totals.
    """

    group: str
    code: str
    name_en: str
    name_ar: str
    kind: str
    accounts: int
    debit: Decimal
    credit: Decimal
    postings: int

    @property
    def is_group(self) -> bool:
        return self.group != Group.SYSTEM and self.code == self.group


@dataclass(frozen=True)
class LedgerTotals:
    """What the ledger held at the bound: entries, postings and the sum of all debit (and credit) postings."""

    entries: int
    postings: int
    debits: Decimal
    credits: Decimal


@dataclass(frozen=True)
class TrialBalance:
    #: The business day asked for; None for "now".
    as_of: dt.date | None
    #: Postings strictly before this instant are counted.
    until: dt.datetime
    issued_at: dt.datetime
    detailed: bool
    lines: tuple[Line, ...]
    ledger: LedgerTotals

    @property
    def at_day_end(self) -> bool:
        """Taken at the end of a finished business day (not part-way through today)."""
        return self.as_of is not None and self.until == day_bounds(self.as_of)[1]

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        """Debit balances equal credit balances, and every debit posting has its credit."""
        return self.total_debit == self.total_credit and self.ledger.debits == self.ledger.credits

    @property
    def covers_ledger(self) -> bool:
        """The lines count every posting the ledger holds (sealed days as sealed, and every posting since)."""
        return sum(line.postings for line in self.lines) == self.ledger.postings


def check_as_of(day: dt.date) -> None:
    """A trial balance is of a day that has begun: a later one is refused."""
    if day > today():
        raise InvalidRequest(
            f"as_of is in the future ({day}): a trial balance is of a day up to today.",
            field="as_of",
            reason="date_in_future",
        )


def trial_balance(as_of: dt.date | None = None, *, detailed: bool = False) -> TrialBalance:
    """The trial balance at the end of business day ``as_of`` (Muscat), or now when ``as_of`` is None or today.

    ``detailed`` lists every account on its own line instead of one line per kind of owned account.
    """
    issued_at = timezone.now()
    until = issued_at
    if as_of is not None:
        check_as_of(as_of)
        until = min(day_bounds(as_of)[1], issued_at)
    sealed = _last_seal(as_of or business_day_of(until))
    rows = _aggregate(until, sealed, detailed)
    lines, ledger = _lines(rows)
    return TrialBalance(
        as_of=as_of, until=until, issued_at=issued_at, detailed=detailed, lines=tuple(lines), ledger=ledger
    )


# --- the one statement ------------------------------------------------------------------------------------------


def exact_amount_sql(column: str) -> str:
    """Amounts as the database sums them exactly: numeric on PostgreSQL, whole baisa on SQLite (which keeps
    decimals as binary floats)."""
    if connection.vendor == "postgresql":
        return column
    return f"CAST(ROUND({column} * 1000) AS INTEGER)"


def to_amount(value: object) -> Decimal:
    """A sum from ``_amount_sql`` back as an exact 3-place Decimal."""
    if value is None:
        return ZERO
    if connection.vendor == "postgresql":
        return Decimal(value).quantize(ZERO)
    return (Decimal(int(value)) / 1000).quantize(ZERO)


def _last_seal(day: dt.date) -> dt.date | None:
    """The last sealed business day up to ``day``: the ledger totals of the days up to it are the seals'."""
    return (
        DaySeal.objects.filter(business_day__lte=day)
        .order_by("-business_day")
        .values_list("business_day", flat=True)
        .first()
    )


def _sql(detailed: bool, sealed: bool) -> str:
    """Per account the sums of its postings before the bound, then per line, and the ledger totals.

    The scan of the postings adds up only what the lines need: the net and the count per account. The ledger
    totals of sealed days are their seals' (``ledger.sealing`` counted them when it sealed); the postings since
    the last seal are found through their entries' time index, so they cost a day's postings, not the ledger's.
    With no seal at all, the scan adds up the debits too. Owned accounts are told apart by joins, not
    subqueries, which keeps the planner's estimate, and with it PostgreSQL's JIT compilation (seconds), away.
    """
    posting, account = Posting._meta.db_table, Account._meta.db_table
    entry, office, seal = Entry._meta.db_table, Office._meta.db_table, DaySeal._meta.db_table
    line = "code" if detailed else f"CASE WHEN grp = '{Group.SYSTEM}' THEN code ELSE grp END"
    amount = exact_amount_sql("amount")
    debits = f"SUM(CASE WHEN {amount} > 0 THEN {amount} ELSE 0 END)"
    if sealed:
        # Per entry of the tail, its postings by the entry index: a day's entries cost a day's index probes (a join
        # would be planned as a hash join over every posting).
        per_entry = f"FROM {posting} p WHERE p.entry_id = e.id"
        tail = f"""tail AS (
        SELECT COUNT(*) AS entries, SUM((SELECT COUNT(*) {per_entry})) AS n,
               SUM((SELECT {debits} {per_entry})) AS debits
        FROM {entry} e WHERE e.created_at >= %(since)s AND e.created_at < %(until)s
    ),"""
        moved_debits = ""
        entries, postings, turnover = "SELECT entries FROM tail", "SELECT n FROM tail", "SELECT debits FROM tail"
    else:
        tail, moved_debits = "", f", {debits} AS debits"
        entries = f"SELECT COUNT(*) FROM {entry} WHERE created_at < %(until)s"
        postings, turnover = "SELECT SUM(n) FROM moved", "SELECT SUM(debits) FROM moved"
    sealed_sum = f"FROM {seal} WHERE business_day <= %(sealed)s"
    return f"""
    WITH moved AS (
        SELECT account_id, SUM({amount}) AS net, COUNT(*) AS n{moved_debits}
        FROM {posting} WHERE created_at < %(until)s
        GROUP BY account_id
    ),
    {tail}
    accounts AS (
        SELECT a.code, a.name, a.kind, m.net, m.n,
               CASE WHEN a.owner_kind = 'system' THEN '{Group.SYSTEM}'
                    WHEN a.owner_kind = 'wallet' THEN '{Group.WALLETS}'
                    WHEN payable.id IS NOT NULL THEN '{Group.COMMISSION_PAYABLE}'
                    WHEN cash.kind = 'internal' THEN '{Group.OFFICE_CASH}'
                    WHEN cash.id IS NOT NULL THEN '{Group.AGENT_FLOATS}'
                    ELSE '{Group.OTHER}' END AS grp
        FROM {account} a
        LEFT JOIN moved m ON m.account_id = a.id
        LEFT JOIN {office} cash ON cash.cash_account_id = a.id
        LEFT JOIN {office} payable ON payable.commission_account_id = a.id
        WHERE a.owner_kind = 'system' OR m.account_id IS NOT NULL
    ),
    lines AS (SELECT *, {line} AS line FROM accounts)
    SELECT grp, line, MIN(name), MIN(kind), MAX(kind), COUNT(*),
           SUM(CASE WHEN net > 0 THEN net ELSE 0 END), SUM(CASE WHEN net < 0 THEN -net ELSE 0 END),
           SUM(net), SUM(n),
           ({entries}) + (SELECT COALESCE(SUM(entry_count), 0) {sealed_sum}),
           COALESCE(({postings}), 0) + (SELECT COALESCE(SUM(posting_count), 0) {sealed_sum}),
           COALESCE(({turnover}), 0) + (SELECT COALESCE(SUM({exact_amount_sql("total_debits")}), 0) {sealed_sum})
    FROM lines
    GROUP BY grp, line
    """


def _aggregate(until: dt.datetime, sealed: dt.date | None, detailed: bool) -> list[tuple]:
    ops = connection.ops
    params = {
        "until": ops.adapt_datetimefield_value(until),
        "since": ops.adapt_datetimefield_value(day_bounds(sealed)[1]) if sealed else None,
        "sealed": ops.adapt_datefield_value(sealed),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The tail's per-entry probes raise the plan's estimated cost with the day's traffic; past the JIT
            # threshold PostgreSQL would spend seconds compiling a statement that runs in a fraction of that.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(_sql(detailed, sealed is not None), params)
        return cursor.fetchall()


def _lines(rows: list[tuple]) -> tuple[list[Line], LedgerTotals]:
    """Lines in chart order (assets, liabilities, equity, income, expenses; system accounts before the kinds of
    owned accounts) and the ledger totals, which every row carries."""
    lines: list[Line] = []
    entries = postings = 0
    debits = net = ZERO
    for row in rows:
        group, code, name, min_kind, max_kind, accounts, debit, credit, line_net, count = row[:10]
        entries, postings, debits = int(row[10]), int(row[11]), to_amount(row[12])
        net += to_amount(line_net)
        is_group = group != Group.SYSTEM and code == group
        name_en, name_ar = _names(group, code, name, is_group)
        lines.append(
            Line(
                group=group,
                code=code,
                name_en=name_en,
                name_ar=name_ar,
                kind=min_kind if min_kind == max_kind else "",
                accounts=int(accounts),
                debit=to_amount(debit),
                credit=to_amount(credit),
                postings=int(count or 0),
            )
        )
    groups = {group: n for n, group in enumerate((Group.SYSTEM, *Group.ORDER))}
    lines.sort(key=lambda line: (KIND_ORDER.get(line.kind, len(KIND_ORDER)), groups[line.group], line.code))
    return lines, LedgerTotals(entries=entries, postings=postings, debits=debits, credits=debits - net)


def _names(group: str, code: str, name: str, is_group: bool) -> labels.Bilingual:
    if is_group:
        return labels.ACCOUNT_GROUP[group]
    if group == Group.SYSTEM:
        return labels.SYSTEM_ACCOUNT.get(code, (name, name))
    return name, labels.ACCOUNT_GROUP[group][1]  # the code is on the English side
