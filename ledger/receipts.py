"""Receipt numbers: what a customer keeps and reads out at any office to find a payment or a top-up.

"R" and 11 digits, the last a Damm check digit: random (a number reveals nothing and cannot be guessed
from another), and a mistyped digit is caught as a typo.
"""

from __future__ import annotations

import secrets

from erial.errors import InvalidRequest

from .account_numbers import check_digit

PREFIX = "R"
DIGITS = 11


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
