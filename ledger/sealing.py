"""The daily seal: a hash chain over each business day's entries, computed after the day is over.

Each seal digests the day's entries in a fixed order (time, id) together with the previous seal's
digest, so changing, adding or removing any sealed entry breaks every later link. Sealing reads only,
after the fact: it never takes a lock that a payment would wait on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from decimal import Decimal

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from erial.money import format_amount, from_db

from .businessday import day_bounds, today
from .models import Account, BalanceCheckpoint, DaySeal, Entry
from .selectors import balance

GENESIS = "0" * 64
ZERO = Decimal("0.000")


def day_digest(day: dt.date, previous_digest: str) -> tuple[str, int, int, Decimal]:
    """Digest of one business day's entries: (digest, entries, postings, total debits)."""
    digest = hashlib.sha256(f"e-Rial seal v1|{day.isoformat()}|{previous_digest}".encode())
    entries = postings = 0
    debits = ZERO
    last_entry = None
    for entry_id, kind, created_at, reverses_id, account_code, amount in _day_rows(day):
        if entry_id != last_entry:
            entries += 1
            last_entry = entry_id
            digest.update(f"\nE|{entry_id}|{kind}|{created_at.isoformat()}|{reverses_id or ''}".encode())
        postings += 1
        amount = from_db(amount)
        debits += max(amount, ZERO)
        digest.update(f"\nP|{account_code}|{format_amount(amount)}".encode())
    return digest.hexdigest(), entries, postings, debits.quantize(ZERO)


def _day_rows(day: dt.date) -> Iterator[tuple]:
    rows = (
        Entry.objects.filter(business_day=day)
        .order_by("created_at", "id", "postings__account__code")
        .values_list("id", "kind", "created_at", "reverses_id", "postings__account__code", "postings__amount")
    )
    # Stream in chunks: a busy day has hundreds of thousands of postings.
    return rows.iterator(chunk_size=5000)


def seal_through(last_day: dt.date | None = None) -> list[DaySeal]:
    """Seal every unsealed business day up to ``last_day`` (default: yesterday), in order.

    Only days that are over can be sealed; a day already sealed is left as it is, so running it twice
    changes nothing. Also writes each account's end-of-day balance checkpoint.
    """
    yesterday = today() - dt.timedelta(days=1)
    last_day = min(last_day or yesterday, yesterday)
    latest = DaySeal.objects.order_by("-business_day").first()
    if latest:
        day = latest.business_day + dt.timedelta(days=1)
        previous = latest.digest
    else:
        first = Entry.objects.aggregate(first=Min("business_day"))["first"]
        if first is None:
            return []
        day, previous = first, GENESIS
    sealed = []
    while day <= last_day:
        with transaction.atomic():
            digest, entries, postings, debits = day_digest(day, previous)
            seal = DaySeal.objects.create(
                business_day=day,
                entry_count=entries,
                posting_count=postings,
                total_debits=debits,
                previous_digest=previous,
                digest=digest,
                sealed_at=timezone.now(),
            )
            _checkpoint_balances(day)
        sealed.append(seal)
        previous = digest
        day += dt.timedelta(days=1)
    return sealed


def _checkpoint_balances(day: dt.date) -> None:
    """End-of-day balances of the accounts that do not cache one and moved that day."""
    _, end = day_bounds(day)
    moved = Account.objects.filter(tracks_balance=False, postings__entry__business_day=day).distinct()
    BalanceCheckpoint.objects.bulk_create(
        [
            BalanceCheckpoint(account=account, business_day=day, until=end, balance=balance(account, as_of=end))
            for account in moved
        ],
        ignore_conflicts=True,
    )


def broken_seals() -> list[str]:
    """Every seal whose digest or chain link no longer matches the entries: a list of findings."""
    problems = []
    previous = GENESIS
    for seal in DaySeal.objects.order_by("business_day").iterator():
        if seal.previous_digest != previous:
            problems.append(f"seal {seal.business_day}: chain broken (previous digest does not match)")
        digest, entries, postings, debits = day_digest(seal.business_day, seal.previous_digest)
        if digest != seal.digest:
            problems.append(
                f"seal {seal.business_day}: entries changed since sealing (sealed {seal.entry_count} entries, "
                f"{seal.posting_count} postings, debits {format_amount(seal.total_debits)}; now {entries}, "
                f"{postings}, {format_amount(debits)})"
            )
        previous = seal.digest
    return problems
