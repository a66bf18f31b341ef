"""Public verification of a printed statement: a short code signed over what the statement says.

The code is an HMAC-SHA256 (key derived from ``SECRET_KEY`` for this purpose only) of the account number,
the period, the opening and closing balances and the number of movements. The public page recomputes the
statement from the ledger: a forged code, an altered period or a statement the ledger does not back fails.

A statement whose last day was still running when it was issued covers that day up to the moment of issue;
movements booked later that day would change its closing. The page therefore accepts the statement as it
stood after any movement of its last day (a handful per wallet), and says which one matched: the count of
movements printed on the paper.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.crypto import salted_hmac

from erial.errors import DomainError
from erial.money import format_amount
from ledger.businessday import day_bounds
from ledger.models import Posting, Wallet
from ledger.wallets import find_wallet

from .pdf.formatting import amount_ar, amount_en
from .statements import ZERO, Statement, check_period, parse_day, period_bounds, statement_data
from .verification import CODE_LENGTH, mask_account, mask_name

#: Separates this use of SECRET_KEY from every other, receipts' codes included.
PURPOSE = "erial.reports.statement-verification"
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def _code(message: str, secret: str) -> str:
    digest = salted_hmac(PURPOSE, message, secret=secret, algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]


def _message(number: str, start: str, end: str, opening: Decimal, closing: Decimal, count: int) -> str:
    return f"{number}|{start}|{end}|{format_amount(opening)}|{format_amount(closing)}|{count}"


def statement_code(data: Statement) -> str:
    """The code printed on the statement ``data``."""
    message = _message(
        data.number, data.start.isoformat(), data.end.isoformat(), data.opening, data.closing, data.line_count
    )
    return _code(message, settings.SECRET_KEY)


def verification_path(data: Statement) -> str:
    """The public page that checks ``data``, its code included (the target of the QR code)."""
    return reverse(
        "reports:verify-statement",
        kwargs={
            "account": data.number,
            "start": data.start.isoformat(),
            "end": data.end.isoformat(),
            "code": statement_code(data),
        },
    )


def _as_issued(wallet: Wallet, statement: Statement) -> Iterator[tuple[Decimal, int]]:
    """(closing, count) of the statement as it stood at every moment of its last day, earliest first."""
    account = wallet.account
    since, _ = period_bounds(statement.start, statement.end)
    last_day_start, last_day_end = day_bounds(statement.end)
    last_day_start = max(since, last_day_start)
    before = Posting.objects.filter(account=account, created_at__gte=since, created_at__lt=last_day_start).aggregate(
        count=Count("id"), total=Sum("amount")
    )
    count = before["count"]
    total = before["total"] or ZERO
    yield _closing(statement, total), count
    amounts = (
        Posting.objects.filter(account=account, created_at__gte=last_day_start, created_at__lt=last_day_end)
        .order_by("created_at", "id")
        .values_list("amount", flat=True)
    )
    for amount in amounts:
        count += 1
        total += amount
        yield _closing(statement, total), count


def _closing(statement: Statement, total: Decimal) -> Decimal:
    """The closing balance after postings summing to ``total`` (debits +, credits -)."""
    return (statement.opening + statement.normal_sign * total).quantize(ZERO)


def public_statement(account: str, start: str, end: str, code: str) -> dict[str, Any] | None:
    """What the public page may show about a genuine statement; ``None`` for anything else.

    Every failure looks the same (a malformed number, an unknown account, a period never issued, a wrong
    code): the page tells a forger nothing about which accounts exist.
    """
    given = code.strip().upper().replace("-", "")
    if len(given) != CODE_LENGTH or not set(given) <= _BASE32:
        return None
    try:
        first, last = parse_day(start, "from"), parse_day(end, "to")
        check_period(first, last)
        wallet = find_wallet(account)
    except DomainError:
        return None
    statement = statement_data(wallet, first, last)
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    for closing, count in _as_issued(wallet, statement):
        message = _message(wallet.number, first.isoformat(), last.isoformat(), statement.opening, closing, count)
        if any(hmac.compare_digest(_code(message, secret), given) for secret in secrets):
            return _shown(statement, closing, count)
    return None


def _shown(statement: Statement, closing: Decimal, count: int) -> dict[str, Any]:
    return {
        "account": mask_account(statement.number),
        "holder_en": mask_name(statement.holder_en) if statement.holder_en else "",
        "holder_ar": mask_name(statement.holder_ar) if statement.holder_ar else "",
        "start": statement.start.isoformat(),
        "end": statement.end.isoformat(),
        "opening_en": amount_en(statement.opening),
        "opening_ar": amount_ar(statement.opening),
        "closing_en": amount_en(closing),
        "closing_ar": amount_ar(closing),
        "movements": count,
    }
