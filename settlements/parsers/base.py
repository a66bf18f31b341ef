"""What every statement parser produces, and the one way to read a statement file.

A statement file (camt.053, MT940, gateway settlement CSV) holds one or more statements. Each is read in a
single streaming pass, so memory stays flat however long the file:

    for statement in read_statements("camt053", stream):
        statement.header          # known before the first line
        for line in statement.lines():
            ...                   # a generator: consumed once
        statement.trailer         # only after the lines are consumed
        statement.batches         # gateway payouts (empty for bank statements)

The parsers are strict: a malformed file raises ``ParseError`` naming the line or element and the reason,
and the checks that need the whole statement (opening balance + lines = closing balance, batch totals) run
before the trailer is handed out. A caller that stores lines as they stream must therefore do so inside one
database transaction and roll back on ``ParseError``: that is how "a malformed file imports nothing" holds.

Pure Python on purpose (no Django): the parsers are used by the importer, the benchmarks and ad-hoc scripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, NamedTuple

#: Amounts are exact to the baisa (3 places), as ``erial.money`` rules; a statement amount is never rounded.
PLACES = 3
QUANTUM = Decimal("0.001")
#: At most 15 integer digits: what ``numeric(18,3)`` holds.
MAX_INTEGER_DIGITS = 15

KINDS = ("camt053", "mt940", "gateway_csv")


class ParseError(ValueError):
    """A statement file refused: ``position`` says where (``"line 12"``, ``"Stmt[1]/Ntry[3]"``), ``reason`` why."""

    def __init__(self, position: str, reason: str) -> None:
        super().__init__(f"{position}: {reason}")
        self.position = position
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StatementHeader:
    """What a statement says before its lines: whose account, which statement, where the balance starts."""

    account: str
    statement_id: str
    #: The bank's running statement number (camt ``ElctrncSeqNb``/``LglSeqNb``, MT940 ``:28C:``), so the
    #: importer can refuse a gap or a repeat; ``None`` where the format has none (gateway CSV).
    sequence: int | None
    currency: str
    opening_balance: Decimal
    opening_date: date


class StatementLine(NamedTuple):
    """One movement on the account, signed: ``+`` money into the account, ``-`` out of it.

    A named tuple, not a frozen dataclass like its neighbours: a million-line file builds a million of them,
    and a frozen dataclass sets each of its 12 fields through ``object.__setattr__`` (1.9 s per million lines,
    against about 0.4 s for the tuple). Read-only and compared by value all the same.
    """

    #: Where it is in the file, for people: ``"line 12"`` or ``"Stmt[1]/Ntry[3]"``.
    position: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    #: Our reference when the payer gave it (camt EndToEndId or remittance, MT940 customer reference,
    #: gateway merchant reference); ``""`` when there is none.
    reference: str
    bank_reference: str
    description: str
    is_reversal: bool
    batch_id: str = ""
    gross: Decimal | None = None
    fee: Decimal | None = None


@dataclass(frozen=True, slots=True)
class StatementTrailer:
    """What the statement says after its lines; already checked: opening + lines = closing."""

    closing_balance: Decimal
    closing_date: date
    line_count: int


@dataclass(frozen=True, slots=True)
class SettlementBatch:
    """A gateway payout: the net of its card lines, paid to the bank in one transfer on ``batch_date``."""

    batch_id: str
    batch_date: date
    gross: Decimal
    fee: Decimal
    net: Decimal
    #: The payout's reference as it appears on the bank statement (to match the bank line).
    reference: str
    line_count: int
    position: str


@dataclass(frozen=True, slots=True)
class StatementEnd:
    """Parser-internal marker: the statement's lines are over and its checks passed."""

    trailer: StatementTrailer
    batches: tuple[SettlementBatch, ...] = ()


#: What a format parser yields, statement after statement: a header, its lines, then its end.
ParsedItem = StatementHeader | StatementLine | StatementEnd


class Statement:
    """One statement of a file, read in the file's single pass: header now, lines once, trailer after."""

    def __init__(self, header: StatementHeader, items: Iterator[ParsedItem]) -> None:
        self.header = header
        self._items = items
        self._end: StatementEnd | None = None
        self._lines_taken = False

    def lines(self) -> Iterator[StatementLine]:
        """The statement's lines, streamed from the file; a ``ParseError`` can surface at any of them."""
        if self._lines_taken:
            raise RuntimeError("Statement.lines() streams the file and can be read only once.")
        self._lines_taken = True
        return self._stream()

    def _stream(self) -> Iterator[StatementLine]:
        while self._end is None:
            item = next(self._items)
            if type(item) is StatementLine:
                yield item
            elif type(item) is StatementEnd:
                self._end = item
            else:  # pragma: no cover - a parser bug, not a file problem
                raise RuntimeError(f"parser yielded {type(item).__name__} inside a statement")

    def _finish(self) -> None:
        """Read past any lines the caller skipped (still checking them), so the next statement can start."""
        if self._end is None:
            for _ in self._stream():
                pass

    @property
    def trailer(self) -> StatementTrailer:
        """The closing balance, date and line count; only once every line was read (and checked)."""
        if self._end is None:
            raise RuntimeError("Statement.trailer is known only after all of Statement.lines() was read.")
        return self._end.trailer

    @property
    def batches(self) -> tuple[SettlementBatch, ...]:
        """The gateway payouts of the statement (checked against their lines); empty for bank statements."""
        if self._end is None:
            raise RuntimeError("Statement.batches is known only after all of Statement.lines() was read.")
        return self._end.batches


def read_statements(kind: str, stream: BinaryIO, *, expected_currency: str = "OMR") -> Iterator[Statement]:
    """The statements of a file of ``kind`` (``"camt053"``, ``"mt940"``, ``"gateway_csv"``), one at a time.

    Every amount and balance must be in ``expected_currency``; anything else is a ``ParseError``, as is any
    malformed part of the file. Moving to the next statement reads (and checks) the unread lines of the
    previous one.
    """
    from . import camt053, gateway_csv, mt940  # the format modules import this one

    parsers = {"camt053": camt053.parse, "mt940": mt940.parse, "gateway_csv": gateway_csv.parse}
    if kind not in parsers:
        raise ValueError(f"Unknown statement kind {kind!r}: expected one of {', '.join(KINDS)}.")
    items = parsers[kind](stream, expected_currency)
    for item in items:
        if type(item) is not StatementHeader:  # pragma: no cover - a parser bug, not a file problem
            raise RuntimeError(f"parser yielded {type(item).__name__} before a statement header")
        statement = Statement(item, items)
        yield statement
        statement._finish()


_PLAIN_DECIMAL = re.compile(r"\d{1,15}(?:\.\d+)?")


def exact_amount(text: str | None, position: str, what: str = "amount") -> Decimal:
    """``text`` (plain ``123.450`` notation, unsigned) as an exact 3-place ``Decimal``, or ``ParseError``.

    Never rounds: a fourth significant decimal is an error in the file, not something to hide.
    """
    if text is None or not _PLAIN_DECIMAL.fullmatch(text := text.strip()):
        raise ParseError(position, f"{what} {text!r} is not a plain decimal number like 12.345")
    return quantize_exact(Decimal(text), text, position, what)


def quantize_exact(value: Decimal, text: str, position: str, what: str = "amount") -> Decimal:
    """``value`` at exactly 3 places if that loses nothing, else ``ParseError`` ("more than 3 decimal places")."""
    try:
        quantized = value.quantize(QUANTUM)
    except InvalidOperation:
        raise ParseError(position, f"{what} {text!r} is too large") from None
    if quantized != value:
        raise ParseError(position, f"{what} {text!r} has more than {PLACES} decimal places")
    if quantized.adjusted() >= MAX_INTEGER_DIGITS:
        raise ParseError(position, f"{what} {text!r} is too large (more than {MAX_INTEGER_DIGITS} digits)")
    return quantized


def check_currency(currency: str | None, expected: str, position: str, what: str) -> str:
    """Refuse a currency other than the account's: a foreign amount must never reach an OMR ledger."""
    if currency != expected:
        raise ParseError(position, f"currency {currency or 'missing'} where {expected} is expected ({what})")
    return expected


def iso_date(text: str | None, position: str, what: str) -> date:
    """An ISO ``YYYY-MM-DD`` date (the date part of a date-time is accepted), or ``ParseError``."""
    if not text:
        raise ParseError(position, f"{what} is missing")
    text = text.strip()
    try:
        # A date-time counts on the date it names (no time-zone shift: the bank's booking day is what it says).
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise ParseError(position, f"{what} {text!r} is not a date (YYYY-MM-DD)") from None
