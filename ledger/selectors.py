"""Reads of the ledger: balances now and as of any instant, the chart with its balances, wallet search."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from erial.errors import InvalidRequest

from . import account_numbers
from .models import Account, AccountBalance, BalanceCheckpoint, HolderType, Posting, Wallet

ZERO = Decimal("0.000")
#: A counter search answers at most this many wallets: a longer list is a query to make more precise.
SEARCH_LIMIT = 10


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


def search_wallets(query: str, *, limit: int = SEARCH_LIMIT) -> list[Wallet]:
    """The wallets a cashier means by what they typed in the counter's one search box: an account number,
    a civil ID / CR number, or a mobile phone (8 digits, with or without +968), at most ``limit`` of them.

    An 8-digit number can be any of the three, so each reading that parses is tried. When nothing matches
    and the number fails the account number's check digit, the refusal says it is mistyped: a typo is
    reported as a typo, never as "no such wallet" (and never lands on someone else's wallet).
    """
    from .wallets import normalise_phone  # wallets imports this module: read the phone rule at call time

    compact = "".join((query or "").split()).replace("-", "").replace("(", "").replace(")", "")
    if not compact:
        raise InvalidRequest("Type an account number, a civil ID / CR number or a phone number.", field="query")
    readings = Q()
    mistyped: InvalidRequest | None = None
    if len(compact) == account_numbers.LENGTH and compact.isdigit() and compact.isascii():
        try:
            readings |= Q(number=account_numbers.normalise(compact))
        except InvalidRequest as error:
            mistyped = error
    if compact.isdigit() and compact.isascii() and 4 <= len(compact) <= 20:
        # Both holder types, so the (holder_type, national_id) unique index serves the look-up.
        readings |= Q(holder__holder_type__in=HolderType.values, holder__national_id=compact)
    with contextlib.suppress(InvalidRequest):  # not a phone number: the other readings may still match
        readings |= Q(holder__phone=normalise_phone(compact))
    if not readings:
        raise InvalidRequest(
            f"{query!r} is not an account number, a civil ID / CR number or a phone number.", field="query"
        )
    found = list(
        Wallet.objects.filter(readings)
        .select_related("holder", "account", "account__cached_balance")
        .order_by("number")[:limit]
    )
    if not found and mistyped is not None:
        raise mistyped
    return found
