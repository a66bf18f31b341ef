"""Wallet numbers people read aloud and type at a counter: 8 digits, the last a Damm check digit.

The Damm check digit catches every single mistyped digit and every swap of two adjacent digits, so a
typo is reported as a typo ("check digit does not match"), never as "not found" on someone else's wallet.
"""

from __future__ import annotations

import secrets

from erial.errors import InvalidRequest

LENGTH = 8

# A totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def check_digit(digits: str) -> str:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def new_number() -> str:
    """A random wallet number (random, so numbers reveal nothing about how many wallets exist)."""
    body = str(secrets.randbelow(9 * 10 ** (LENGTH - 2)) + 10 ** (LENGTH - 2))
    return body + check_digit(body)


def normalise(raw: object) -> str:
    """The canonical number from what a person typed (spaces and dashes allowed), or a clear refusal."""
    if not isinstance(raw, str):
        raise InvalidRequest("An account number is a string of digits.", field="account")
    digits = raw.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not digits.isascii() or len(digits) != LENGTH:
        raise InvalidRequest(f"{raw!r} is not an e-Rial account number: those are {LENGTH} digits.", field="account")
    if check_digit(digits) != "0":
        raise InvalidRequest(
            f"Account number {raw} is mistyped: its check digit does not match. Please check the digits.",
            field="account",
        )
    return digits
