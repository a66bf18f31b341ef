"""Public verification of a printed receipt: a short code signed with the server's key, and what may be shown.

Anyone holding a receipt can check it is genuine by scanning its QR code, without logging in. The code is
an HMAC-SHA256 of the receipt number under a key derived from ``SECRET_KEY`` for this purpose only, so a
forged receipt or an altered number does not verify, and a valid code reveals nothing about any other
receipt. The public page shows what the receipt says about the money, never who the holder is: names and
the account number are masked.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import salted_hmac

from erial.errors import InvalidRequest, NotFound
from ledger.receipts import normalise_receipt_number

from . import labels
from .pdf.formatting import amount_ar, amount_en, format_moment, muscat_time
from .receipt_lookup import receipt

#: Separates this use of SECRET_KEY from every other (sessions, password resets, ...).
PURPOSE = "erial.reports.receipt-verification"
#: 10 base32 characters = 50 bits: far beyond guessing, short enough to read out or type.
CODE_LENGTH = 10


def _code(receipt_number: str, secret: str) -> str:
    digest = salted_hmac(PURPOSE, receipt_number, secret=secret, algorithm="sha256").digest()
    return base64.b32encode(digest).decode("ascii")[:CODE_LENGTH]


def verification_code(receipt_number: str) -> str:
    """The code printed on the receipt ``receipt_number`` (already normalised, ``R`` and 11 digits)."""
    return _code(receipt_number, settings.SECRET_KEY)


def printed_code(code: str) -> str:
    """``ABCDEFGHIJ`` -> ``ABCDE-FGHIJ``: easier to read out at a counter."""
    return f"{code[:5]}-{code[5:]}"


def is_genuine(receipt_number: str, code: str) -> bool:
    """True when ``code`` was issued for this receipt number, under the current key or a fallback one.

    Keys in ``SECRET_KEY_FALLBACKS`` still verify, so rotating the key does not make paper receipts fail.
    """
    given = code.strip().upper().replace("-", "")
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return any(hmac.compare_digest(_code(receipt_number, secret), given) for secret in secrets)


def verification_path(receipt_number: str) -> str:
    return reverse(
        "reports:verify-receipt",
        kwargs={"receipt_number": receipt_number, "code": verification_code(receipt_number)},
    )


def mask_name(name: str) -> str:
    """``Salim Al-Harthy`` -> ``S*** Al-H***``, ``سالم الحارثي`` -> ``س*** الح***``: enough to recognise one's
    own receipt, not enough to learn a stranger's name.
    """
    return " ".join(_mask_word(word) for word in name.split())


_ARTICLES = ("al-", "el-", "ال")


def _mask_word(word: str) -> str:
    for article in _ARTICLES:
        if word.lower().startswith(article) and len(word) > len(article):
            return word[: len(article) + 1] + "***"
    return word[0] + "***"


def mask_account(number: str) -> str:
    """``12345678`` -> ``*****678``: the last 3 digits, as on a bank card slip."""
    return "*" * max(len(number) - 3, 0) + number[-3:]


def refund_note(data: Mapping[str, Any]) -> labels.Bilingual | None:
    """What a payment's receipt says about its refunds, in both languages; ``None`` when nothing was refunded
    (and for every other kind of receipt). Printed beside the figures paid, which never change.
    """
    status = data.get("refund_status", "none")
    if status == "none":
        return None
    day = muscat_time(data["refunded_at"]).date().isoformat()
    if status == "full":
        return labels.refunded_in_full(day, data["refunded_total"], data["refunded_amount"], data["refunded_fee"])
    return labels.refunded_in_part(data["refunded_amount"], data["amount"], day)


def public_receipt(receipt_number: str, code: str) -> dict[str, Any] | None:
    """What the public page may show about a genuine receipt; ``None`` for a wrong code or unknown number.

    The code is checked before the database is read, and every failure looks the same: the page tells
    a forger nothing about which receipt numbers exist.
    """
    try:
        number = normalise_receipt_number(receipt_number)
    except InvalidRequest:
        return None
    if not is_genuine(number, code):
        return None
    try:
        data = receipt(number)
    except NotFound:
        return None
    total = data.get("total", data["amount"])
    note = refund_note(data)
    return {
        "receipt_number": number,
        "kind_en": labels.KIND[data["kind"]][0],
        "kind_ar": labels.KIND[data["kind"]][1],
        "when": format_moment(data["created_at"]),
        "amount_en": amount_en(data["amount"]),
        "amount_ar": amount_ar(data["amount"]),
        "total_en": amount_en(total),
        "total_ar": amount_ar(total),
        "office_en": data.get("office_en", ""),
        "office_ar": data.get("office_ar", ""),
        "service_en": data.get("service_en", ""),
        "service_ar": data.get("service_ar", ""),
        "holder_en": mask_name(data["holder_en"]) if data["holder_en"] else "",
        "holder_ar": mask_name(data["holder_ar"]) if data["holder_ar"] else "",
        "account": mask_account(data["account"]),
        "voided": bool(data.get("voided")),
        "refund_status": data.get("refund_status", "none"),
        "refund_en": note[0] if note else "",
        "refund_ar": note[1] if note else "",
    }
