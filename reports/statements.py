"""The customer statement: what a wallet held at the start of a period, every movement in it, what it held at the end.

``statement_data`` is the selector: it checks the period, reads the opening balance and the period's totals
(two queries), and hands out the movements as a stream (one query, read with ``.iterator()``), so a year of a
busy wallet is never held in memory. ``render_statement`` turns it into the bilingual PDF
(``reports.statement_pdf``). Days are Asia/Muscat calendar days, like every business day in e-Rial.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Generator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from erial.errors import InvalidRequest
from ledger.businessday import day_bounds, today
from ledger.models import Posting, Wallet
from ledger.selectors import balance

ZERO = Decimal("0.000")
#: The longest period one statement covers (a leap year): a longer one is asked for as several statements.
MAX_PERIOD_DAYS = 366
#: Rows fetched per round trip while streaming the movements.
CHUNK = 2000
#: Only the extended form: Python also reads "20250301" and "2025-W09-6" as days, which no person means.
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Movement:
    """One posting on the wallet as the statement prints it: debit (money out) or credit (money in)."""

    created_at: dt.datetime
    kind: str
    memo: str
    debit: Decimal
    credit: Decimal
    #: Stored on every posting of an account that tracks its balance, as wallets do.
    balance_after: Decimal | None


@dataclass(frozen=True)
class Statement:
    """A wallet's statement for ``start``..``end`` (both days included), as of ``issued_at``.

    ``opening``, the totals and ``line_count`` are known before a single movement is read: the PDF prints
    the closing balance and the signed verification code on its first page.
    """

    number: str
    holder_en: str
    holder_ar: str
    start: dt.date
    end: dt.date
    issued_at: dt.datetime
    opening: Decimal
    total_debits: Decimal
    total_credits: Decimal
    line_count: int
    account_id: int
    normal_sign: int
    #: The time of the last movement counted in the totals: the stream stops there, so a movement booked
    #: while the statement is drawn never appears in its lines without being in its totals.
    last_movement_at: dt.datetime | None

    @property
    def closing(self) -> Decimal:
        """Opening plus every movement of the period."""
        return self.balance_with(self.total_debits, self.total_credits)

    def balance_with(self, debits: Decimal, credits: Decimal) -> Decimal:
        """The balance once ``debits`` and ``credits`` since the opening are booked: credits raise a wallet
        (a liability), debits lower it."""
        return (self.opening + self.normal_sign * (debits - credits)).quantize(ZERO)

    def movements(self) -> Generator[Movement, None, None]:
        """The movements in time order, streamed from one query (a fresh stream on each call)."""
        if self.last_movement_at is None:
            return
        since, _ = period_bounds(self.start, self.end)
        rows = (
            Posting.objects.filter(
                account_id=self.account_id, created_at__gte=since, created_at__lte=self.last_movement_at
            )
            .order_by("created_at", "id")
            .values_list("created_at", "amount", "balance_after", "entry__kind", "entry__memo")
            .iterator(chunk_size=CHUNK)
        )
        for created_at, amount, balance_after, kind, memo in rows:
            debit, credit = (amount, ZERO) if amount > 0 else (ZERO, -amount)
            yield Movement(created_at, kind, memo, debit, credit, balance_after)


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start of ``start``, end of ``end``) in Asia/Muscat."""
    return day_bounds(start)[0], day_bounds(end)[1]


def check_period(start: dt.date, end: dt.date) -> None:
    """Refuse a period that ends before it starts, ends after today (Muscat) or is longer than allowed.

    Each refusal names a ``reason``, so the portal can say it in the customer's language.
    """
    if end < start:
        raise InvalidRequest(
            f"The period ends ({end}) before it starts ({start}).", field="to", reason="period_reversed"
        )
    if end > today():
        raise InvalidRequest(
            f"The period ends in the future ({end}): a statement covers days up to today.",
            field="to",
            reason="period_in_future",
        )
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidRequest(
            f"A statement covers at most {MAX_PERIOD_DAYS} days; ask for several.",
            field="from",
            reason="period_too_long",
        )


def parse_day(raw: object, field: str) -> dt.date:
    """``"2025-03-01"`` -> a date; anything else is refused, naming the field (``from`` or ``to``)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise InvalidRequest(f"{field} is required: a date like 2025-03-01.", field=field, reason="date_missing")
    try:
        if _ISO_DAY.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass  # 2025-02-30: the right shape, not a day
    raise InvalidRequest(f"{field} must be a date like 2025-03-01, not {raw!r}.", field=field, reason="date_invalid")


def statement_data(wallet: Wallet, start: dt.date, end: dt.date) -> Statement:
    """The statement of ``wallet`` for the days ``start``..``end``, or ``InvalidRequest`` for a bad period.

    Reads the opening balance (the balance just before the first instant of ``start``) and the period's
    count and totals; the movements themselves are read only when ``Statement.movements()`` is iterated.
    """
    check_period(start, end)
    account = wallet.account
    since, until = period_bounds(start, end)
    issued_at = timezone.now()
    totals = Posting.objects.filter(account=account, created_at__gte=since, created_at__lt=until).aggregate(
        count=Count("id"),
        debits=Sum("amount", filter=Q(amount__gt=0)),
        credits=Sum("amount", filter=Q(amount__lt=0)),
        last=Max("created_at"),
    )
    return Statement(
        number=wallet.number,
        holder_en=wallet.holder.name_en,
        holder_ar=wallet.holder.name_ar,
        start=start,
        end=end,
        issued_at=issued_at,
        opening=balance(account, as_of=since),
        total_debits=(totals["debits"] or ZERO).quantize(ZERO),
        total_credits=(-(totals["credits"] or ZERO)).quantize(ZERO),
        line_count=totals["count"],
        account_id=account.pk,
        normal_sign=account.normal_sign,
        last_movement_at=totals["last"],
    )


def render_statement(data: Statement, *, site_url: str) -> bytes:
    """The statement as an A4 PDF whose QR code points to the verification page under ``site_url``."""
    # Imported here: the PDF module imports this one (for the verification code it prints).
    from .statement_pdf import render_statement as render

    return render(data, site_url=site_url)
