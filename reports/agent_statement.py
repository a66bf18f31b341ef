"""An office's statement for a period: its drawer (internal office) or float (external agent), and an agent's
commission payable, from the ledger's postings.

Like the customer statement (``reports.statements``), the selector reads the opening balances and the
period's totals by kind first (a few queries) and streams the movements on demand, so a year of a busy
agent is never held in memory. Every movement is a posting on one of the office's accounts: float deposits,
cash top-ups, voids, corrections, cash over/short, commission accrued and clawed back. "In" raises the
account's balance and "out" lowers it, whatever the account's kind: a top-up is money in for a drawer (an
asset) and money out of a float (what the municipality owes the agent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, CharField, Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from agents.models import CashTopup, Office
from erial.money import format_amount, from_db
from ledger.models import Account, Posting
from ledger.selectors import balance

from .statements import CHUNK, check_period, period_bounds

ZERO = Decimal("0.000")


@dataclass(frozen=True, slots=True)
class AgentMovement:
    """One posting on an office account. ``debit`` and ``credit`` are what the statement table prints in its
    out and in columns: out lowers the balance, in raises it."""

    created_at: dt.datetime
    kind: str
    memo: str
    receipt: str
    debit: Decimal
    credit: Decimal
    balance_after: Decimal


@dataclass(frozen=True, slots=True)
class KindTotal:
    count: int
    credit: Decimal  # in
    debit: Decimal  # out


@dataclass(frozen=True)
class AccountPart:
    """One office account over the period: opening, totals by kind, and its movements (``movements()``)."""

    role: str  # "cash" (drawer or float) or "commission"
    account_id: int
    code: str
    normal_sign: int
    since: dt.datetime
    opening: Decimal
    totals: dict[str, KindTotal]
    line_count: int
    #: The last posting counted in the totals: the stream stops there, so lines and totals always agree.
    last_movement_at: dt.datetime | None

    @property
    def total_credits(self) -> Decimal:
        return sum((t.credit for t in self.totals.values()), ZERO)

    @property
    def total_debits(self) -> Decimal:
        return sum((t.debit for t in self.totals.values()), ZERO)

    @property
    def closing(self) -> Decimal:
        """Opening plus every movement of the period."""
        return self.balance_with(self.total_debits, self.total_credits)

    def balance_with(self, debits: Decimal, credits: Decimal) -> Decimal:
        """The balance once ``debits`` (out) and ``credits`` (in) since the opening are booked."""
        return (self.opening + credits - debits).quantize(ZERO)

    def movements(self) -> Generator[AgentMovement, None, None]:
        """The movements in time order, streamed from one query (a fresh stream on each call)."""
        if self.last_movement_at is None:
            return
        rows = (
            _classified(
                Posting.objects.filter(
                    account_id=self.account_id, created_at__gte=self.since, created_at__lte=self.last_movement_at
                )
            )
            .order_by("created_at", "id")
            .values_list(
                "created_at",
                "amount",
                "balance_after",
                "statement_kind",
                "entry__memo",
                "entry__reference",
                "entry__cash_topup__receipt_number",
                "entry__cash_topup__wallet__number",
                "entry__cash_topup__commission",
                "entry__reverses__cash_topup__receipt_number",
                "entry__reverses__cash_topup__wallet__number",
            )
            .iterator(chunk_size=CHUNK)
        )
        for created_at, amount, after, kind, memo, reference, receipt, wallet, commission, undone, wallet_of in rows:
            change = self.normal_sign * amount
            receipt = receipt or undone or ""
            yield AgentMovement(
                created_at=created_at,
                kind=kind,
                memo=_memo(self.role, receipt, wallet or wallet_of, commission, reference or memo),
                receipt=receipt,
                debit=max(-change, ZERO),
                credit=max(change, ZERO),
                balance_after=after,
            )


def _memo(role: str, receipt: str, wallet: str | None, commission: Decimal | None, fallback: str) -> str:
    """What a line says after its kind: the receipt and the account number of a top-up (and its commission,
    on the float's lines); a deposit's bank reference; otherwise the entry's memo."""
    if not receipt:
        return fallback
    parts = [receipt, wallet or ""]
    if role == "cash" and commission:
        parts.append(f"comm. {format_amount(commission)}")
    return " · ".join(parts)


def _classified(postings: QuerySet[Posting]) -> QuerySet[Posting]:
    """Postings with their ``statement_kind``: the entry's kind, except that a cashier's void (a reversal of a
    cash top-up made at the counter) is a ``void``."""
    void = Exists(CashTopup.objects.filter(void_entry=OuterRef("entry")))
    kind = Case(When(void, then=Value("void")), default=F("entry__kind"), output_field=CharField())
    return postings.annotate(statement_kind=kind)


@dataclass(frozen=True)
class AgentStatement:
    office: Office
    start: dt.date
    end: dt.date
    issued_at: dt.datetime
    cash: AccountPart
    commission: AccountPart | None


def agent_statement(office: Office, start: dt.date, end: dt.date) -> AgentStatement:
    """The statement of ``office`` for ``start``..``end`` (both Muscat days included), or ``InvalidRequest``
    for a bad period (``reports.statements.check_period``)."""
    check_period(start, end)
    since, until = period_bounds(start, end)
    commission = office.commission_account
    return AgentStatement(
        office=office,
        start=start,
        end=end,
        issued_at=timezone.now(),
        cash=_part("cash", office.cash_account, since, until),
        commission=_part("commission", commission, since, until) if commission else None,
    )


def _part(role: str, account: Account, since: dt.datetime, until: dt.datetime) -> AccountPart:
    postings = Posting.objects.filter(account=account, created_at__gte=since, created_at__lt=until)
    rows = (
        _classified(postings)
        .values("statement_kind")
        .annotate(
            count=Count("id"),
            debits=Sum("amount", filter=Q(amount__gt=0)),
            credits=Sum("amount", filter=Q(amount__lt=0)),
            last=Max("created_at"),
        )
        .order_by("statement_kind")
    )
    sign = account.normal_sign
    totals: dict[str, KindTotal] = {}
    last = None
    for row in rows:
        up, down = from_db(row["debits"]) or ZERO, -(from_db(row["credits"]) or ZERO)  # accounting debits, credits
        raised, lowered = (up, down) if sign > 0 else (down, up)
        totals[row["statement_kind"]] = KindTotal(row["count"], raised, lowered)
        last = row["last"] if last is None else max(last, row["last"])
    return AccountPart(
        role=role,
        account_id=account.pk,
        code=account.code,
        normal_sign=sign,
        since=since,
        opening=balance(account, as_of=since),
        totals=totals,
        line_count=sum(t.count for t in totals.values()),
        last_movement_at=last,
    )


def as_json(data: AgentStatement) -> dict[str, Any]:
    """The statement as the API answers it: amounts as 3-decimal strings, every movement listed."""

    def part(p: AccountPart) -> dict[str, Any]:
        return {
            "account": p.code,
            "opening": format_amount(p.opening),
            "closing": format_amount(p.closing),
            "total_in": format_amount(p.total_credits),
            "total_out": format_amount(p.total_debits),
            "totals_by_kind": {
                kind: {"count": t.count, "in": format_amount(t.credit), "out": format_amount(t.debit)}
                for kind, t in p.totals.items()
            },
            "movements": [
                {
                    "at": m.created_at.isoformat(),
                    "kind": m.kind,
                    "receipt_number": m.receipt,
                    "description": m.memo,
                    "in": format_amount(m.credit),
                    "out": format_amount(m.debit),
                    "balance_after": format_amount(m.balance_after),
                }
                for m in p.movements()
            ],
        }

    office = data.office
    return {
        "office": office.code,
        "name_en": office.name_en,
        "name_ar": office.name_ar,
        "kind": office.kind,
        "from": data.start.isoformat(),
        "to": data.end.isoformat(),
        "issued_at": data.issued_at.isoformat(),
        "currency": "OMR",
        "float" if office.is_external else "cash_drawer": part(data.cash),
        "commission_payable": part(data.commission) if data.commission else None,
    }
