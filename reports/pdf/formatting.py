"""Amounts and times as printed: OMR with 3 decimals, in both languages; instants in Asia/Muscat."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from erial.money import format_amount
from ledger.businessday import business_zone

CURRENCY_EN = "OMR"
#: "Rial Omani", the abbreviation printed on Omani bills and receipts.
CURRENCY_AR = "ر.ع."


def _amount(value: Decimal | str) -> str:
    return format_amount(Decimal(value))


def amount_en(value: Decimal | str) -> str:
    """``"12.5"`` -> ``"12.500 OMR"``."""
    return f"{_amount(value)} {CURRENCY_EN}"


def amount_ar(value: Decimal | str) -> str:
    """``"12.5"`` -> ``"12.500 ر.ع."`` in logical order (the amount is read first, right to left)."""
    return f"{_amount(value)} {CURRENCY_AR}"


def muscat_time(moment: dt.datetime) -> dt.datetime:
    """An instant as the clock in Muscat showed it, whatever the server's or the request's zone."""
    return timezone.localtime(moment, business_zone())


def format_moment(moment: dt.datetime) -> str:
    """``2025-11-24 14:05`` in Asia/Muscat: the same digits in English and Arabic text."""
    return muscat_time(moment).strftime("%Y-%m-%d %H:%M")
