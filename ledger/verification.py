"""``verify``: the books prove themselves, from the postings up, without trusting any cache.

Each check returns a list of findings (empty = holds). Findings name the entry or account concerned so
finance can go straight to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from erial.money import format_amount, from_db

from . import guards
from .models import NORMAL_SIGN, AccountKind
from .sealing import broken_seals

ZERO = Decimal("0.000")
#: Sums on SQLite come back as binary floats; anything within half a baisa of zero is zero.
HALF_BAISA = Decimal("0.0005")


def _dec(value: Any) -> Decimal:
    return from_db(value) or ZERO


def _rows(sql: str, params: list[Any] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def unbalanced_entries() -> list[str]:
    rows = _rows(
        "SELECT e.id, p.amount_currency, COUNT(p.id), SUM(p.amount) FROM ledger_entry e "
        "LEFT JOIN ledger_posting p ON p.entry_id = e.id GROUP BY e.id, p.amount_currency "
        # The threshold is a literal: SQLite compares a bound Decimal (sent as text) above every number.
        f"HAVING COUNT(p.id) < 2 OR ABS(COALESCE(SUM(p.amount), 0)) >= {HALF_BAISA}",
    )
    return [
        f"entry {entry_id}: {count} postings summing to {format_amount(_dec(total))} {currency or ''}".rstrip()
        for entry_id, currency, count, total in rows
    ]


def inexact_postings() -> list[str]:
    rows = _rows("SELECT id, entry_id, amount FROM ledger_posting WHERE amount = 0 OR amount <> ROUND(amount, 3)")
    return [f"posting {pid} of entry {eid}: amount {amount} is zero or finer than a baisa" for pid, eid, amount in rows]


def cached_balances_differ() -> list[str]:
    findings = []
    rows = _rows(
        "SELECT a.code, a.kind, a.tracks_balance, b.balance, "
        "(SELECT SUM(p.amount) FROM ledger_posting p WHERE p.account_id = a.id) "
        "FROM ledger_account a LEFT JOIN ledger_accountbalance b ON b.account_id = a.id "
        "WHERE a.tracks_balance OR b.account_id IS NOT NULL"
    )
    for code, kind, tracks, cached, posted in rows:
        if not tracks:
            findings.append(f"account {code}: has a cached balance row but does not track a balance")
            continue
        if cached is None:
            findings.append(f"account {code}: tracks a balance but has no balance row")
            continue
        expected = NORMAL_SIGN[AccountKind(kind)] * _dec(posted)
        if _dec(cached) != expected:
            findings.append(
                f"account {code}: cached balance {format_amount(_dec(cached))} but postings give "
                f"{format_amount(expected)}"
            )
    return findings


def floors_broken() -> list[str]:
    rows = _rows(
        "SELECT a.code, b.balance, b.floor FROM ledger_accountbalance b JOIN ledger_account a ON a.id = b.account_id "
        "WHERE b.floor IS NOT NULL AND b.balance < b.floor"
    )
    return [
        f"account {code}: balance {format_amount(_dec(bal))} below its floor {format_amount(_dec(floor))}"
        for code, bal, floor in rows
    ]


def over_reversed() -> list[str]:
    findings = []
    rows = _rows(
        "SELECT op.entry_id, a.code, op.amount, "
        "(SELECT SUM(rp.amount) FROM ledger_posting rp JOIN ledger_entry r ON r.id = rp.entry_id "
        " WHERE r.reverses_id = op.entry_id AND rp.account_id = op.account_id) "
        "FROM ledger_posting op JOIN ledger_account a ON a.id = op.account_id "
        "WHERE EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses_id = op.entry_id)"
    )
    for entry_id, code, original, reversed_sum in rows:
        original, reversed_sum = _dec(original), _dec(reversed_sum)
        if reversed_sum * original > 0 or abs(reversed_sum) > abs(original):
            findings.append(
                f"entry {entry_id}: reversals move {format_amount(reversed_sum)} on {code}, "
                f"more than or against the original {format_amount(original)}"
            )
    strays = _rows(
        "SELECT r.id, a.code FROM ledger_entry r JOIN ledger_posting rp ON rp.entry_id = r.id "
        "JOIN ledger_account a ON a.id = rp.account_id WHERE r.reverses_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM ledger_posting op WHERE op.entry_id = r.reverses_id AND op.account_id = rp.account_id)"
    )
    findings += [f"reversal {rid}: posts to {code}, which the reversed entry never touched" for rid, code in strays]
    return findings


def checkpoints_differ() -> list[str]:
    rows = _rows(
        "SELECT a.code, a.kind, c.business_day, c.balance, "
        "(SELECT SUM(p.amount) FROM ledger_posting p WHERE p.account_id = c.account_id AND p.created_at < c.until) "
        "FROM ledger_balancecheckpoint c JOIN ledger_account a ON a.id = c.account_id "
        "WHERE c.until = (SELECT MAX(c2.until) FROM ledger_balancecheckpoint c2 WHERE c2.account_id = c.account_id)"
    )
    findings = []
    for code, kind, day, stored, posted in rows:
        expected = NORMAL_SIGN[AccountKind(kind)] * _dec(posted)
        if _dec(stored) != expected:
            findings.append(
                f"account {code}: checkpoint of {day} says {format_amount(_dec(stored))}, postings give "
                f"{format_amount(expected)}"
            )
    return findings


def guards_missing() -> list[str]:
    missing = guards.expected_triggers(connection.vendor) - guards.active_triggers(connection)
    return [f"database guard {name} is missing or disabled" for name in sorted(missing)]


CHECKS: dict[str, Callable[[], list[str]]] = {
    "every entry has two or more postings summing to zero": unbalanced_entries,
    "every posting is a non-zero amount in whole baisa": inexact_postings,
    "cached balances equal the postings": cached_balances_differ,
    "no balance below its floor": floors_broken,
    "no reversal exceeds what it reverses": over_reversed,
    "end-of-day checkpoints equal the postings": checkpoints_differ,
    "daily seals intact": broken_seals,
    "append-only and zero-sum guards in place": guards_missing,
}


def register_check(name: str, check: Callable[[], list[str]]) -> None:
    """Let another app add a check of its own (``verify`` runs them all): the ledger knows no app above it."""
    CHECKS[name] = check


@dataclass
class Report:
    results: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.results.values())

    @property
    def findings(self) -> list[str]:
        return [finding for problems in self.results.values() for finding in problems]

    def lines(self) -> list[str]:
        out = []
        for check, problems in self.results.items():
            out.append(f"{'FAIL' if problems else 'ok  '} {check}")
            out += [f"       - {problem}" for problem in problems]
        out.append("The books balance." if self.ok else f"{len(self.findings)} problem(s) found.")
        return out


def verify() -> Report:
    """Run every check; the report says which hold and, for those that do not, where."""
    return Report({name: check() for name, check in CHECKS.items()})
