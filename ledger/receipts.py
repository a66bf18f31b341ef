"""Receipt numbers: what a customer keeps and reads out at any office to find a payment or a top-up.

"R" and 11 digits, the last a Damm check digit: random (a number reveals nothing and cannot be guessed
from another), and a mistyped digit is caught as a typo.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError

from erial.errors import InvalidRequest

from .account_numbers import check_digit

PREFIX = "R"
DIGITS = 11
#: Draws of a fresh number before giving up (a collision is about one in 10^10 / rows already issued).
ATTEMPTS = 3

T = TypeVar("T")


def new_receipt_number() -> str:
    body = f"{secrets.randbelow(10 ** (DIGITS - 1)):0{DIGITS - 1}d}"
    return PREFIX + body + check_digit(body)


def normalise_receipt_number(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidRequest("A receipt number is a string like R12345678901.")
    text = raw.strip().upper().replace(" ", "").replace("-", "")
    digits = text[1:] if text.startswith(PREFIX) else text
    if len(digits) != DIGITS or not digits.isdigit() or not digits.isascii():
        raise InvalidRequest(f"{raw!r} is not a receipt number: those are R and {DIGITS} digits.")
    if check_digit(digits) != "0":
        raise InvalidRequest(f"Receipt number {raw} is mistyped: its check digit does not match.")
    return PREFIX + digits


def is_receipt_collision(error: IntegrityError) -> bool:
    """Whether a unique violation is a drawn receipt number already taken (and not, say, a bill paid twice).

    Both backends name the column in the message: PostgreSQL's constraint ``..._receipt_number_...``,
    SQLite's ``UNIQUE constraint failed: <table>.receipt_number``.
    """
    return "receipt_number" in str(error)


def retry_on_receipt_collision(action: Callable[[], T]) -> T:
    """Run ``action`` (one whole transaction that draws a receipt number) again if its number was taken.

    The failed attempt rolled back whole, its ledger entry and idempotency key with it, so running it again
    is the same request with a new number; any other integrity error is the caller's to explain.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return action()
        except IntegrityError as error:
            if attempt == ATTEMPTS or not is_receipt_collision(error):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
