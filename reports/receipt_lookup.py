"""Any receipt by its number, whatever issued it: a cash top-up, a payment, a refund or an online top-up.

``agents.selectors.receipt`` knows the first three; online top-ups live in ``topups``, beside agents on the
same layer (design §2). Reports sits above both, so the one lookup every receipt reader uses (the receipts
API, the counter's PDFs, the public verification page) is here.
"""

from __future__ import annotations

from typing import Any

from agents import selectors
from erial.errors import NotFound
from erial.money import format_amount
from ledger.receipts import normalise_receipt_number
from topups.models import OnlineTopup, TopupStatus

from . import labels


def receipt(number: str) -> dict[str, Any]:
    """The receipt with this number as the data printed on it; ``NotFound`` if none was issued.

    A mistyped number is refused (``InvalidRequest``) before anything is read, as for every receipt.
    """
    try:
        return selectors.receipt(number)
    except NotFound:
        pass
    number = normalise_receipt_number(number)
    topup = (
        OnlineTopup.objects.select_related("wallet__holder", "entry")
        .filter(receipt_number=number, status=TopupStatus.COMPLETED)
        .first()
    )
    if topup is None:
        raise NotFound(f"No receipt {number}.")
    return online_topup_receipt(topup)


def online_topup_receipt(topup: OnlineTopup) -> dict[str, Any]:
    """A credited online top-up's receipt, with the keys of the others (``agents.selectors.receipt``).

    Its time is the credit's (the ledger entry's), not the initiation's: the receipt proves the money arrived.
    """
    wallet, holder = topup.wallet, topup.wallet.holder
    channel_en, channel_ar = labels.CHANNEL[topup.channel]
    return {
        "receipt_number": topup.receipt_number,
        "kind": "online_topup",
        "created_at": topup.entry.created_at,
        "account": wallet.number,
        "holder_en": holder.name_en,
        "holder_ar": holder.name_ar,
        "amount": format_amount(topup.amount),
        "currency": "OMR",
        "channel": topup.channel,
        "channel_en": channel_en,
        "channel_ar": channel_ar,
        "reference": topup.reference,
        "partner_txn_id": topup.partner_txn_id,
        "owner_user_id": holder.user_id,
    }
