"""An external agent replenishes its float at the bank; the bank's statement says so; reconciliation credits it.

design.md §4: "agent replenishes float at the bank: bank -> agent float (recognised by reconciliation)". The
agent deposits with its float's ledger account code as the reference (``FLOAT-<office code>``, shown on its
counter page). A bank credit carrying that reference (any letter case) that the reference matching left open
replenishes the float: one ``float_deposit`` entry per line, bank -> agent float, keyed on the line, so a re-run
posts nothing twice. A deposit finance recorded beforehand under the same reference was matched to its line
by then, so it is never credited twice. A ``FLOAT-`` reference naming no float, or a float that cannot take
the credit (a terminated office's closed account), stays open and becomes the usual unmatched-line exception.

Settlements know ledger accounts, not offices: the account's code and owner say whose float it is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from erial.errors import AccountInactive
from ledger import services as ledger
from ledger.chart import SystemAccount
from ledger.models import Account, EntryKind, OwnerKind
from ledger.payments import system_account

from . import matching
from .models import LineStatus, Source, StatementLine

PREFIX = "FLOAT-"
SCOPE = "settlements.float"
ZERO = Decimal("0.000")


def replenish_floats(day: dt.date) -> tuple[int, Decimal]:
    """Credit each float named by an open bank credit of ``day``; returns (lines, total credited)."""
    lines = matching.line_not_pending(  # a line the reference matching paired (not written yet) is taken
        StatementLine.objects.filter(
            source=Source.BANK,
            booking_date=day,
            status=LineStatus.UNMATCHED,
            amount__gt=0,
            reference__istartswith=PREFIX,
        )
    )
    bank = system_account(SystemAccount.BANK)
    count, total = 0, ZERO
    for line in lines.order_by("id"):
        account = Account.objects.filter(code__iexact=line.reference.strip(), owner_kind=OwnerKind.OFFICE).first()
        if account is None:
            continue
        try:
            with transaction.atomic():
                entry = ledger.post(
                    kind=EntryKind.FLOAT_DEPOSIT,
                    legs=[ledger.Leg(bank, line.amount), ledger.Leg(account, -line.amount)],
                    idempotency_key=f"line:{line.pk}",
                    scope=SCOPE,
                    reference=line.reference[:64],
                    memo=f"Float replenished at the bank ({line.position}): {line.description or line.reference}"[:255],
                    metadata={"statement_line": line.pk, "account": account.code},
                )
        except AccountInactive:
            continue
        line.status, line.matched_entry, line.settled_entry = LineStatus.MATCHED, entry, entry
        line.save(update_fields=["status", "matched_entry", "settled_entry"])
        count += 1
        total += line.amount
    return count, total
