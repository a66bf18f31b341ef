"""The card gateway's settlement report (CSV), streamed.

The format (ours to define; the gateway adapter writes it from the gateway's own report). UTF-8, comma
separated, a header row, then one record per row::

    record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency
    TXN,B20250115-01,OT3F2A9C1B7D01,gw_000812,2025-01-15,10.000,0.150,9.850,OMR
    REFUND,B20250115-01,OT3F2A9C1B7C77,gw_000813,2025-01-15,-5.000,0.000,-5.000,OMR
    BATCH,B20250115-01,GWPAYOUT-0001,,2025-01-16,5.000,0.150,4.850,OMR

- ``TXN``: one card payment (a top-up). ``reference`` is ours (the top-up's), ``partner_txn_id`` the
  gateway's, one per transaction; ``gross`` > 0 is what the card paid, ``fee`` >= 0 what the gateway keeps,
  ``net = gross - fee``.
- ``REFUND``: a card payment given back, with its own ``partner_txn_id``: ``gross`` < 0, ``net = gross - fee``
  (the fee the gateway charges or returns for it, either sign).
- ``BATCH``: the payout that closes a batch: the gateway pays ``net`` to our bank account on
  ``transaction_date``, with ``reference`` on the bank statement line. Its ``gross``, ``fee`` and ``net`` are
  the totals of the batch's ``TXN``/``REFUND`` rows, which all come before it.

Amounts are plain decimals with at most 3 places (``9.850``, ``-5``); every currency must be the expected one.
The whole file is one statement with no balances of its own: opening 0, each ``TXN``/``REFUND`` a line
whose amount is its ``net`` (``gross``, ``fee`` and ``batch_id`` kept), closing = the sum of the nets. The
batches (``Statement.batches``) are what the bank statement is reconciled against.

Refused (``ParseError`` at ``line N``): a wrong header, a row with the wrong number of columns, an unknown
record type, a bad amount or date, another currency, ``net != gross - fee``, a payment with a gross that is
not positive (a refund: not negative), a row for a batch already paid out, a second ``BATCH`` for one batch,
a ``BATCH`` whose totals differ from its rows' (or that has no rows), rows whose batch is never paid out, an
empty file. A ``TXN``/``REFUND`` row whose ``partner_txn_id`` an earlier row of the file already has (the
gateway reported one transaction twice) is refused by the import, not here: remembering every id would make
the parser's memory grow with the file, so ``settlements.importing`` asks the database once the lines are
stored, in the same transaction, and names both lines.

Across files nothing refuses a repeated ``partner_txn_id``: statement lines carry no unique key (see the
README's decision on line keys; the unique ``partner_txn_id`` of ``topups.OnlineTopup`` guards the partner's
callbacks, not its statements). A transaction reported again in another file is imported but never matched
twice: a ledger entry is matched to one line, and a reference on two open lines matches neither
(``settlements.matching``). Reported after the first line was matched, the repeat becomes an exception and
its batch waits for finance; reported before, both lines do and both batches wait. (A whole batch reported
again is refused at import: ``batch_id`` is unique.)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, BinaryIO

from .base import (
    ParsedItem,
    ParseError,
    SettlementBatch,
    StatementEnd,
    StatementHeader,
    StatementLine,
    StatementTrailer,
    check_currency,
    quantize_exact,
)

HEADER = (
    "record_type",
    "batch_id",
    "reference",
    "partner_txn_id",
    "transaction_date",
    "gross",
    "fee",
    "net",
    "currency",
)
#: The statement's account in the importer's terms: the gateway clearing side, not a bank account.
ACCOUNT = "card-gateway"
DESCRIPTIONS = {"TXN": "card payment", "REFUND": "card refund"}
ZERO = Decimal("0.000")
_SIGNED_DECIMAL = re.compile(r"-?\d{1,15}(?:\.\d+)?")
#: The shape nearly every amount has: exactly 3 places and at most 15 integer digits, so already exact.
_BAISA_DECIMAL = re.compile(r"-?\d{1,15}\.\d{3}")


class _OpenBatch:
    """Running totals of a batch whose payout (``BATCH`` row) has not been read yet."""

    __slots__ = ("fee", "gross", "lines", "net")

    def __init__(self) -> None:
        self.gross = self.fee = self.net = ZERO
        self.lines = 0


def parse(stream: BinaryIO, expected_currency: str) -> Iterator[ParsedItem]:
    """One statement: header (opening 0), a line per ``TXN``/``REFUND``, then the end with the batches."""
    reader = csv.reader(_text_lines(stream), strict=True)
    try:
        yield from _parse(reader, expected_currency)
    except csv.Error as exc:
        raise ParseError(f"line {reader.line_num}", f"not well-formed CSV ({exc})") from None


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The file's lines as text, decoded one by one so that a bad byte is reported on its own line."""
    for number, raw in enumerate(stream, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"line {number}", f"not UTF-8 text ({exc.reason})") from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def _parse(reader: Any, expected_currency: str) -> Iterator[ParsedItem]:
    first = next(reader, None)
    if first is None or tuple(column.strip() for column in first) != HEADER:
        raise ParseError("line 1", f"the header row must be {','.join(HEADER)}")
    open_batches: dict[str, _OpenBatch] = {}
    closed: dict[str, SettlementBatch] = {}  # in payout order
    total = ZERO
    count = 0
    first_date: date | None = None
    last_date: date | None = None
    for row in reader:
        if not row:
            continue  # a blank line (e.g. at the end) carries nothing
        position = f"line {reader.line_num}"
        if len(row) != len(HEADER):
            raise ParseError(position, f"{len(row)} columns, expected {len(HEADER)} ({','.join(HEADER)})")
        kind, batch_id, reference, partner_txn_id, day_text, gross_text, fee_text, net_text, currency = row
        if kind not in ("TXN", "REFUND", "BATCH"):
            raise ParseError(position, f"unknown record_type {kind!r}: expected TXN, REFUND or BATCH")
        if not batch_id:
            raise ParseError(position, "batch_id is empty")
        check_currency(currency, expected_currency, position, f"the {kind} row")
        day = _date(day_text, position)
        gross = _amount(gross_text, position, "gross")
        fee = _amount(fee_text, position, "fee")
        net = _amount(net_text, position, "net")
        if net != gross - fee:
            raise ParseError(position, f"net {net} is not gross {gross} - fee {fee} = {gross - fee}")
        if first_date is None:
            first_date = day
            yield StatementHeader(
                account=ACCOUNT,
                statement_id="",
                sequence=None,
                currency=expected_currency,
                opening_balance=ZERO,
                opening_date=day,
            )
        last_date = day if last_date is None or day > last_date else last_date
        if batch_id in closed:
            raise ParseError(
                position,
                f"batch {batch_id} was already paid out at {closed[batch_id].position}: every row of a batch comes "
                "before its one BATCH row",
            )
        if kind == "BATCH":
            batch = _close_batch(open_batches.pop(batch_id, None), batch_id, day, gross, fee, net, reference, position)
            closed[batch_id] = batch
            continue
        if kind == "TXN" and (gross <= 0 or fee < 0):
            raise ParseError(
                position, f"a TXN needs a positive gross and a fee of 0 or more (gross {gross}, fee {fee})"
            )
        if kind == "REFUND" and gross >= 0:
            raise ParseError(position, f"a REFUND needs a negative gross (gross {gross})")
        totals = open_batches.get(batch_id)
        if totals is None:
            totals = open_batches[batch_id] = _OpenBatch()
        totals.gross += gross
        totals.fee += fee
        totals.net += net
        totals.lines += 1
        total += net
        count += 1
        yield StatementLine(
            position=position,
            booking_date=day,
            value_date=None,
            amount=net,
            currency=expected_currency,
            reference=reference,
            bank_reference=partner_txn_id,
            description=DESCRIPTIONS[kind],
            is_reversal=kind == "REFUND",
            batch_id=batch_id,
            gross=gross,
            fee=fee,
        )
    if first_date is None or last_date is None:
        raise ParseError(f"line {reader.line_num or 1}", "the report holds no record (only a header)")
    if open_batches:
        names = ", ".join(sorted(open_batches)[:5])
        raise ParseError(f"line {reader.line_num}", f"no BATCH row pays out batch(es) {names}")
    yield StatementEnd(StatementTrailer(total, last_date, count), tuple(closed.values()))


def _close_batch(
    totals: _OpenBatch | None,
    batch_id: str,
    day: date,
    gross: Decimal,
    fee: Decimal,
    net: Decimal,
    reference: str,
    position: str,
) -> SettlementBatch:
    """The payout, once its totals are the sums of its rows: what the bank will show is what the rows make."""
    if totals is None:
        raise ParseError(position, f"BATCH {batch_id} has no TXN or REFUND row before it")
    for name, stated, summed in (("gross", gross, totals.gross), ("fee", fee, totals.fee), ("net", net, totals.net)):
        if stated != summed:
            raise ParseError(
                position, f"BATCH {batch_id} states {name} {stated}, its {totals.lines} rows add up to {summed}"
            )
    return SettlementBatch(
        batch_id=batch_id,
        batch_date=day,
        gross=gross,
        fee=fee,
        net=net,
        reference=reference,
        line_count=totals.lines,
        position=position,
    )


def _amount(text: str, position: str, column: str) -> Decimal:
    """A signed plain decimal (``-5.000``), exact to the baisa."""
    if _BAISA_DECIMAL.fullmatch(text):  # the fast path: a million-line report has three per line
        return Decimal(text)
    if not _SIGNED_DECIMAL.fullmatch(text):
        raise ParseError(position, f"{column} {text!r} is not a plain decimal number like 12.345")
    return quantize_exact(Decimal(text), text, position, column)


def _date(text: str, position: str) -> date:
    """A strict ``YYYY-MM-DD`` date."""
    try:
        return _iso_day(text)
    except ValueError:
        raise ParseError(position, f"transaction_date {text!r} is not a date (YYYY-MM-DD)") from None


@lru_cache(maxsize=64)
def _iso_day(text: str) -> date:
    """A report has few distinct dates: each is parsed once (a refused one raises, and is not cached)."""
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)
