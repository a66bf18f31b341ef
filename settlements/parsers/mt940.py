"""SWIFT MT940 (customer statement message), streamed, on the maintained ``mt-940`` package.

``mt940.parse()`` reads a whole file into memory and builds every transaction before returning, and
``mt940.parse_statements()`` splits on ``:20:`` but still returns a list, so neither can stream. This module
therefore reads the file line by line itself, cuts it into fields (``:61:``, ``:86:``, ...) and hands each
field to the package's own field parser (``mt940.tags``, the same objects ``mt940.parse`` uses) as soon as
the field is complete: memory holds one field, however many statements or lines the file has. The package
is used with ``reversal_sign`` (an ``RC`` reversal of a credit takes money out) and ``unbounded_details``.

What a statement must be (SWIFT order): ``:20:`` reference, ``:25:`` account, ``:28C:`` (or ``:28:``)
statement/page number, an opening balance ``:60F:``/``:60M:``, any number of ``:61:`` lines each optionally
followed by one ``:86:``, a closing balance ``:62F:``/``:62M:``, then optionally ``:64:``, ``:65:``, a
statement ``:86:``. A statement ends at ``-`` (or ``-}``), at the next ``:20:`` or at the end of the file;
envelope lines around statements (``ABNANL2A``, ``940``, ``{1:...}{2:...}{4:``) are skipped.

Refused (``ParseError`` at ``line N``): a field out of that order or missing, an unknown field, a field not in
its SWIFT layout (checked against the package's own patterns, whole field, not just a prefix), an amount
without its decimal comma or with more than 3 decimals (``1,2345``), an impossible date, a balance in another
currency than the account's, and a statement whose opening balance + lines is not its closing balance.

``sequence`` is the statement number of ``:28C:`` (``19321`` of ``19321/1``); the page number after the slash
is not kept, so a statement split over pages repeats its number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO

import mt940
from mt940.models import Transactions

from .base import (
    ParsedItem,
    ParseError,
    StatementEnd,
    StatementHeader,
    StatementLine,
    StatementTrailer,
    check_currency,
    quantize_exact,
)

OPTIONS = mt940.Options(reversal_sign=True, case_insensitive_marks=True, unbounded_details=True)
_FIELD = re.compile(r":(?P<full>(?P<id>\d{2}|NS)[A-Z]?):")
_AMOUNT = re.compile(r"\d{1,14},\d*")
#: Fields of free text, which may run over several lines (a ``:61:`` may have one more line).
_FREE_TEXT = {"86", "NS"}
#: Fields that may stand between the balances and carry nothing the ledger needs.
_IGNORED = {"13D", "21", "34F", "NS", "90C", "90D"}
_ONCE = {"25", "28", "28C"}
_OPENING = {"60F", "60M", "60"}
_CLOSING = {"62F", "62M", "62"}
_FORWARD = {"64", "65"}
NO_REFERENCE = "NONREF"


def parse(stream: BinaryIO, expected_currency: str) -> Iterator[ParsedItem]:
    """Header, lines and end of each statement of the file, checked as described in the module docstring."""
    statement: _StatementReader | None = None
    field: tuple[str, int, list[str]] | None = None  # (tag, line number, value lines) being read
    count = number = 0
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n").rstrip()
        except UnicodeDecodeError:
            raise ParseError(f"line {number}", "not UTF-8 text") from None
        if number == 1:
            line = line.removeprefix("\ufeff")
        match = _FIELD.match(line)
        if match and _library_key(match) is not None:  # a new field
            if statement is not None and field is not None:
                yield from statement.field(*field)
            tag = match["full"]
            if tag == "20":
                if statement is not None:
                    yield statement.finish(number)
                count += 1
                statement = _StatementReader(count, expected_currency)
            elif statement is None:
                raise ParseError(f"line {number}", f":{tag}: outside a statement (a statement starts with :20:)")
            field = (tag, number, [line[match.end() :]])
        elif line in ("-", "-}") or line.startswith("-}"):  # the end of a statement
            if statement is not None and field is not None:
                yield from statement.field(*field)
            if statement is not None:
                yield statement.finish(number)
            statement, field = None, None
        elif not line:
            continue  # blank lines carry nothing (the shared sample has one between two lines)
        elif field is None:
            continue  # envelope text around statements (``ABNANL2A``, ``940``, ``{1:...}``)
        elif field[0] in _FREE_TEXT or (field[0] == "61" and len(field[2]) == 1):
            field[2].append(line)  # free text may hold ":xx:" of fields that do not exist
        elif match:
            raise ParseError(f"line {number}", f"unknown field :{match['full']}:")
        else:
            raise ParseError(f"line {number}", f"unexpected text {line[:40]!r} after the :{field[0]}: field")
    if statement is not None and field is not None:
        yield from statement.field(*field)
    if statement is not None:
        yield statement.finish(number + 1)
    if count == 0:
        raise ParseError(f"line {number or 1}", "the file holds no MT940 statement (no :20: field)")


def _library_key(match: re.Match[str]) -> str | int | None:
    """The key of the field in ``mt940.tags.TAG_BY_ID`` (``"60F"``, ``61``), or ``None`` if it is not known."""
    tags = mt940.tags.TAG_BY_ID
    if match["full"] in tags:
        return match["full"]
    plain = int(match["id"]) if match["id"].isdigit() else match["id"]
    return plain if plain in tags else None


class _StatementReader:
    """One statement while it streams: the fields before the lines, the lines, the closing balance."""

    def __init__(self, index: int, currency: str) -> None:
        self.index = index
        self.currency = currency
        self.context = Transactions(options=OPTIONS)  # the package's field parsers read options and currency
        self.seen: set[str] = set()  # of _ONCE fields, by number (":28:" and ":28C:" are one field)
        self.reference = ""
        self.account = ""
        self.sequence: int | None = None
        self.header: StatementHeader | None = None
        self.pending: dict[str, Any] | None = None  # a :61: line waiting for its :86:
        self.total = Decimal("0.000")
        self.line_count = 0
        self.closing: tuple[Decimal, date] | None = None
        self.last_tag = ""

    def field(self, tag: str, number: int, lines: list[str]) -> Iterator[StatementLine | StatementHeader]:
        """Check and take one complete field; yields the header after the opening balance and finished lines."""
        position = f"line {number}"
        value = "\n".join(lines).strip()
        previous, self.last_tag = self.last_tag, tag
        if tag == "86" and previous == "61":
            assert self.pending is not None
            self.pending["details"] = self._parse(tag, value, position)[0]["transaction_details"]
            yield self._take_pending()
            return
        if self.pending is not None:
            yield self._take_pending()
        if tag in _ONCE:
            if self.header is not None:
                raise ParseError(position, f":{tag}: after the opening balance")
            if tag[:2] in self.seen:
                raise ParseError(position, f"a second :{tag}: in one statement")
            self.seen.add(tag[:2])
        if tag == "20":
            self.reference = self._parse(tag, value, position)[0]["transaction_reference"].strip()
        elif tag == "25":
            self.account = self._parse(tag, value, position)[0]["account_identification"].strip()
        elif tag in ("28", "28C"):
            self.sequence = int(self._parse(tag, value, position)[0]["statement_number"])
        elif tag in _OPENING:
            if self.header is not None:
                raise ParseError(position, f"a second opening balance :{tag}:")
            yield self._opening(tag, value, position)
        elif tag == "61":
            if self.header is None or self.closing is not None:
                where = "before the opening balance" if self.header is None else "after the closing balance"
                raise ParseError(position, f"a :61: statement line {where}")
            result, raw_amount = self._parse(tag, value, position)
            result["exact_amount"] = quantize_exact(result["amount"].amount, raw_amount, position)
            result["position"] = position
            self.pending = result
        elif tag in _CLOSING:
            self._closing(tag, value, position)
        elif tag in _FORWARD:
            if self.closing is None:
                raise ParseError(position, f":{tag}: before the closing balance")
            self._balance(tag, value, position)
        elif tag == "86":
            if self.closing is None:
                raise ParseError(position, ":86: must follow a :61: line or the closing balance")
        elif tag in _IGNORED:
            self._parse(tag, value, position)
        else:
            raise ParseError(position, f"field :{tag}: has no place in an MT940 statement")

    def _parse(self, tag: str, value: str, position: str) -> tuple[dict[str, Any], str]:
        """The package's parse of one field (its pattern applied to the whole field) and the raw amount."""
        tags = mt940.tags.TAG_BY_ID
        parser = tags.get(tag) or tags[int(tag[:2]) if tag[:2].isdigit() else tag]
        if parser.re.fullmatch(value) is None:
            raise ParseError(position, f":{tag}: {value[:60]!r} is not in the SWIFT layout of the field")
        groups = parser.parse(self.context, value)
        raw_amount = groups.get("amount")
        if raw_amount is not None and not _AMOUNT.fullmatch(raw_amount):
            raise ParseError(position, f":{tag}: amount {raw_amount!r} is not a SWIFT amount (digits, decimal comma)")
        try:
            return parser(self.context, groups), raw_amount or ""
        except (ValueError, ArithmeticError) as exc:
            raise ParseError(position, f":{tag}: {value[:60]!r} cannot be read ({exc})") from None

    def _balance(self, tag: str, value: str, position: str) -> tuple[Decimal, date]:
        result, raw_amount = self._parse(tag, value, position)
        balance = next(iter(result.values()))
        check_currency(balance.amount.currency, self.currency, position, f"the :{tag}: balance")
        self.context.data.update(result)  # the :61: parser takes the statement's currency from it
        return quantize_exact(balance.amount.amount, raw_amount, position), _plain_date(balance.date)

    def _opening(self, tag: str, value: str, position: str) -> StatementHeader:
        missing = [name for name, have in ((":20:", self.reference), (":25:", self.account)) if not have]
        if self.sequence is None:
            missing.append(":28C:")
        if missing:
            raise ParseError(position, f"{' and '.join(missing)} must come before the opening balance")
        amount, day = self._balance(tag, value, position)
        self.header = StatementHeader(
            account=self.account,
            statement_id=self.reference,
            sequence=self.sequence,
            currency=self.currency,
            opening_balance=amount,
            opening_date=day,
        )
        return self.header

    def _closing(self, tag: str, value: str, position: str) -> None:
        if self.header is None:
            raise ParseError(position, f"closing balance :{tag}: before the opening balance")
        if self.closing is not None:
            raise ParseError(position, f"a second closing balance :{tag}:")
        amount, day = self._balance(tag, value, position)
        opening = self.header.opening_balance
        if opening + self.total != amount:
            raise ParseError(
                position,
                f"opening balance {opening} + lines {self.total} = {opening + self.total}, "
                f"but the closing balance :{tag}: is {amount}",
            )
        self.closing = (amount, day)

    def _take_pending(self) -> StatementLine:
        data, self.pending = self.pending, None
        assert data is not None
        amount = data["exact_amount"]
        self.total += amount
        self.line_count += 1
        reference = (data.get("customer_reference") or "").strip()
        value_date = data["date"]
        return StatementLine(
            position=data["position"],
            booking_date=_plain_date(data.get("entry_date") or value_date),
            value_date=_plain_date(value_date),
            amount=amount,
            currency=self.currency,
            reference="" if reference.upper() == NO_REFERENCE else reference,
            bank_reference=(data.get("bank_reference") or "").strip(),
            description=(data.get("details") or data.get("extra_details") or "").strip(),
            is_reversal=data["status"].upper().startswith("R"),
        )

    def finish(self, number: int) -> StatementEnd:
        """The trailer; the statement ended (``-``, the next ``:20:``, or the end of the file) at ``number``."""
        if self.pending is not None:  # pragma: no cover - the caller flushes the last field first
            raise RuntimeError("a :61: line was not emitted")
        if self.header is None:
            raise ParseError(f"line {number}", f"statement {self.index} ends without an opening balance :60F:/:60M:")
        if self.closing is None:
            raise ParseError(f"line {number}", f"statement {self.index} ends without a closing balance :62F:/:62M:")
        return StatementEnd(StatementTrailer(self.closing[0], self.closing[1], self.line_count))


def _plain_date(value: date) -> date:
    """The package returns its own ``Date`` subclass; the rest of e-Rial gets a plain ``date``."""
    return date(value.year, value.month, value.day)
