"""OMR amounts: parsing at the edge, quantizing with a named rule, formatting.

The Omani rial has exactly 3 decimal places. Amounts are ``Decimal`` everywhere; a float never becomes
money (its binary value is not the number the user typed).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

from .errors import InvalidAmount

CURRENCY = "OMR"
PLACES = 3
QUANTUM = Decimal("0.001")
#: Rounding rule for *computed* amounts (percentage commission, proportional splits): half away from
#: zero, as PostgreSQL's numeric rounding and the Central Bank of Oman's published tariffs do.
ROUNDING = ROUND_HALF_UP

# Plain decimal notation only: optional sign, ASCII digits, optional point with 1-3 digits. No exponent,
# no grouping, no spaces, no "NaN"/"Infinity", no other script's digits (forms turn Arabic-Indic digits into
# these first; an API client sends these).
_AMOUNT_RE = re.compile(r"^(?P<sign>-)?(?P<int>[0-9]{1,15})(?:\.(?P<frac>[0-9]{1,3}))?$")


def parse_amount(
    value: object, *, allow_negative: bool = False, allow_zero: bool = False, exact_places: bool = False
) -> Decimal:
    """Parse an amount crossing an edge into an exact 3-place ``Decimal``, or raise ``InvalidAmount``.

    Accepts a string in plain notation (``"12.5"``, ``"12.500"``) or a ``Decimal``/``int``; refuses
    floats, exponents, more than 3 decimals, zero and negatives (unless allowed) and anything above
    ``ERIAL_MAX_AMOUNT``. Never rounds: a fourth decimal is a mistake to report, not to hide.
    ``exact_places``: the string must carry exactly 3 decimals (``"12.500"``, never ``"12.5"``), as the API's
    clients and partners send money (api.md); people typing at a form may write ``12.5``.
    """
    if isinstance(value, bool | float):
        raise InvalidAmount('Amounts must be given as strings like "12.500", not as floating-point numbers.')
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmount("Amount must be a finite number.")
        value = format(value, "f")
    if not isinstance(value, str):
        raise InvalidAmount('Amount must be a string like "12.500".')
    match = _AMOUNT_RE.match(value)
    if not match:
        if re.match(r"^-?\d+\.\d{4,}$", value):
            raise InvalidAmount(f"Amount {value!r} has more than {PLACES} decimal places (OMR has {PLACES}).")
        raise InvalidAmount(f'Amount {value!r} is not a plain decimal number like "12.500".')
    if exact_places and len(match.group("frac") or "") != PLACES:
        raise InvalidAmount(f'Amount {value!r} must have exactly {PLACES} decimals, like "12.500" (OMR has {PLACES}).')
    try:
        amount = Decimal(value).quantize(QUANTUM)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid numbers
        raise InvalidAmount(f"Amount {value!r} is not a number.") from exc
    if amount < 0 and not allow_negative:
        raise InvalidAmount(f"Amount {value!r} must be positive.")
    if amount == 0 and not allow_zero:
        raise InvalidAmount("Amount must not be zero.")
    if abs(amount) > settings.ERIAL_MAX_AMOUNT:
        raise InvalidAmount(
            f"Amount {value!r} is larger than the maximum of {format_amount(settings.ERIAL_MAX_AMOUNT)} OMR."
        )
    return amount


def check_currency(currency: object) -> str:
    """Refuse any currency but OMR (the ledger holds rials only)."""
    if currency != CURRENCY:
        raise InvalidAmount(f"Currency {currency!r} is not accepted: e-Rial holds {CURRENCY} only.")
    return CURRENCY


def quantize(amount: Decimal) -> Decimal:
    """Round a computed amount to the baisa with the project's named rule (``ROUNDING``)."""
    return amount.quantize(QUANTUM, rounding=ROUNDING)


def is_exact(amount: Decimal) -> bool:
    """True when ``amount`` is finite and has no digits beyond the baisa."""
    return amount.is_finite() and amount == amount.quantize(QUANTUM, rounding=ROUNDING)


def format_amount(amount: Decimal) -> str:
    """``Decimal("12.5")`` -> ``"12.500"``: how amounts cross every edge."""
    return f"{amount.quantize(QUANTUM):f}"


def from_db(value: object) -> Decimal | None:
    """A NUMERIC read back from the database as an exact 3-place Decimal (SQLite hands back floats).

    A float from SQLite is the nearest binary value of the stored decimal; its shortest repr is that
    decimal again, so it is read through ``repr``, never through ``Decimal(float)``.
    """
    if value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value if isinstance(value, Decimal) else str(value)).quantize(QUANTUM)
