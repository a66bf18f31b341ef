"""Receipt numbers: what a customer keeps and reads out at any office to find a payment or a top-up.

"R" and 11 digits, the last a Damm check digit: random (a number reveals nothing and cannot be guessed
from another), and a mistyped digit is caught as a typo.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, connection
from django.db.models import Field, Model

from erial.errors import InvalidRequest

from .account_numbers import check_digit

PREFIX = "R"
DIGITS = 11
#: Draws of a fresh number before giving up (a collision is about one in 10^10 / rows already issued), for
#: every way a receipt is written: running out means the generator is broken, not bad luck.
INSERT_ATTEMPTS = 5

T = TypeVar("T")
M = TypeVar("M", bound=Model)


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


class NoFreeReceiptNumber(RuntimeError):
    """Every number drawn was taken: the generator is broken, not unlucky (a server error, on purpose)."""

    def __init__(self) -> None:
        super().__init__(f"No free receipt number in {INSERT_ATTEMPTS} attempts: is the generator random?")


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
    for _ in range(INSERT_ATTEMPTS):
        try:
            return action()
        except IntegrityError as error:
            if not is_receipt_collision(error):
                raise
    raise NoFreeReceiptNumber()


@functools.cache
def receipt_insert_sql(model: type[Model]) -> tuple[str, tuple[Field, ...]]:
    fields = tuple(model._meta.concrete_fields)
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT (receipt_number) DO NOTHING RETURNING 1"
    )
    return sql, fields


def insert_with_fresh_receipt(instance: M, *, draw: Callable[[], str] | None = None) -> M:
    """INSERT ``instance`` (a new row with a ``receipt_number``) under a number no other row of its table has.

    A taken number is drawn again: ON CONFLICT on that one column leaves the caller's transaction usable,
    with no savepoint round trips, and any other unique violation (a bill paid twice) still raises. Plain
    SQL built once per model: the ORM's INSERT cost more to build than to run on the payment path.
    """
    draw = draw or new_receipt_number
    sql, fields = receipt_insert_sql(type(instance))
    for _ in range(INSERT_ATTEMPTS):
        instance.receipt_number = draw()
        with connection.cursor() as cursor:
            cursor.execute(sql, [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields])
            if cursor.fetchone() is not None:
                instance._state.adding, instance._state.db = False, connection.alias
                return instance
    raise NoFreeReceiptNumber()
