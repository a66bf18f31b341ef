"""Which of a wallet's movements have a receipt, and its number: one query per kind of receipt.

The portal's history is rendered by ledger, which may not import agents or topups (design §2), so the
history rows carry only their entry; reports, above all three, maps entries to receipt numbers for the
template (``reports.templatetags.portal_receipts``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agents.models import CashTopup
from ledger.models import Payment, Refund
from topups.models import OnlineTopup


def receipt_numbers(entry_ids: Iterable[Any]) -> dict[Any, str]:
    """``{entry id: receipt number}`` for the entries that issued a receipt (corrections and voids did not)."""
    ids = [entry_id for entry_id in entry_ids if entry_id is not None]
    if not ids:
        return {}
    numbers: dict[Any, str] = {}
    for model in (Payment, Refund, CashTopup, OnlineTopup):
        rows = model.objects.filter(entry_id__in=ids, receipt_number__isnull=False)
        numbers.update(rows.values_list("entry_id", "receipt_number"))
    return numbers
