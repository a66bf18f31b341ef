"""Reads of the ledger: balances now and as of any instant, and the chart with its balances."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from .models import Account, AccountBalance, BalanceCheckpoint, Posting

ZERO = Decimal("0.000")


def balance(account: Account, *, as_of: dt.datetime | None = None) -> Decimal:
    """The account's balance in its normal sign, now or just before ``as_of``.

    Tracked accounts answer from their cached row (now) or the last posting's ``balance_after`` (as of).
    Hot accounts: the latest end-of-day checkpoint at or before the moment plus the postings since, so
    no read sums the whole history.
    """
    if account.tracks_balance:
        if as_of is None:
            return AccountBalance.objects.values_list("balance", flat=True).get(account=account)
        # Each posting on a tracked account stores the balance after it: one index probe.
        last = (
            Posting.objects.filter(account=account, created_at__lt=as_of)
            .order_by("-created_at", "-id")
            .values_list("balance_after", flat=True)
            .first()
        )
        return ZERO if last is None else last
    checkpoints = BalanceCheckpoint.objects.filter(account=account)
    if as_of is not None:
        checkpoints = checkpoints.filter(until__lte=as_of)
    checkpoint = checkpoints.order_by("-until").values("until", "balance").first()
    postings = Posting.objects.filter(account=account)
    start = ZERO
    if checkpoint:
        postings = postings.filter(created_at__gte=checkpoint["until"])
        start = checkpoint["balance"]
    if as_of is not None:
        postings = postings.filter(created_at__lt=as_of)
    total = postings.aggregate(total=Sum("amount"))["total"] or ZERO
    return (start + account.normal_sign * total).quantize(ZERO)


@dataclass(frozen=True)
class AccountLine:
    account: Account
    balance: Decimal
    floor: Decimal | None


def chart_with_balances(limit: int = 200) -> list[AccountLine]:
    """The first ``limit`` accounts (system accounts first) with their current balances."""
    accounts = list(Account.objects.select_related("cached_balance").order_by("tracks_balance", "code")[:limit])
    lines = []
    for account in accounts:
        cached = getattr(account, "cached_balance", None) if account.tracks_balance else None
        lines.append(
            AccountLine(
                account=account,
                balance=cached.balance if cached else balance(account),
                floor=cached.floor if cached else None,
            )
        )
    return lines
