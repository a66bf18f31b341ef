"""ISO 20022 camt.053 (bank-to-customer statement), any ``camt.053.001.NN`` version, streamed.

What is read, per ``Stmt``: ``Id``, ``ElctrncSeqNb`` (else ``LglSeqNb``) as the sequence, the account
(``Acct/Id/IBAN`` or ``Acct/Id/Othr/Id``: Omani banks often give a plain account number), the opening
booked balance (``OPBD``, else ``PRCD``), the closing booked balance (``CLBD``), and every ``Ntry``. An entry
carrying several transactions (``NtryDtls/TxDtls`` repeated, a batch booking) becomes one line per
transaction, and their amounts must add up to the entry's. A reversal is ``RvslInd`` true; its sign is its
``CdtDbtInd`` as booked (ISO 20022: a reversed credit is booked as a debit).

Refused (``ParseError`` naming the element, e.g. ``Stmt[1]/Ntry[3]/Amt``): XML that is not well-formed or is
truncated, a DTD or entity declaration, another message than camt.053, any balance or amount in another
currency than the account's, an amount with more than 3 decimals, a missing mandatory element (balance,
amount, credit/debit mark, booking date), an entry not booked (``Sts`` other than ``BOOK``), transaction
amounts that do not add up to their entry, a ``TxsSummry`` that disagrees with the entries, and a statement
whose opening balance + entries is not its closing balance.

Speed and safety. The body is parsed by the standard library's C parser (``XMLPullParser``), with each
entry removed from the tree once read, so memory stays flat over millions of entries. The prolog, where a
DTD and so any entity declaration (billion laughs, XXE) must live, is first run through ``defusedxml``'s
parser with DTDs forbidden: once the root element has started, XML allows no DTD, so the C parser only ever
sees documents without one (an entity it does not know is then a plain well-formedness error). Parsing the
whole file with ``defusedxml.ElementTree.iterparse`` would be as safe but 2.5-3x slower (its parser is pure
Python), which the 1,000,000-line import cannot afford.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import BinaryIO
from xml.etree.ElementTree import Element, XMLPullParser
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from .base import (
    ParsedItem,
    ParseError,
    StatementEnd,
    StatementHeader,
    StatementLine,
    StatementTrailer,
    check_currency,
    exact_amount,
    iso_date,
)

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
FIRST_CHUNK = 4096  # small, so the defusedxml prolog check parses little more than the prolog
CHUNK = 1 << 16
OPENING_CODES = ("OPBD", "PRCD")  # opening booked, else previously closed booked
CLOSING_CODE = "CLBD"
TRUE_VALUES = {"true": True, "1": True, "false": False, "0": False}


#: The elements read, by local name (each is qualified with the file's namespace once, in ``_Names``).
_LOCAL_NAMES = (
    "BkToCstmrStmt", "GrpHdr", "SplmtryData", "Stmt", "Id", "ElctrncSeqNb", "LglSeqNb", "Acct", "IBAN", "Othr",
    "Ccy", "Bal", "Tp",
    "CdOrPrtry", "Cd", "Prtry", "Amt", "CdtDbtInd", "Dt", "DtTm", "TxsSummry", "TtlNtries", "NbOfNtries",
    "TtlNetNtry", "TtlNetNtryAmt", "Ntry", "NtryRef", "RvslInd", "Sts", "BookgDt", "ValDt", "AcctSvcrRef",
    "AddtlNtryInf", "NtryDtls", "TxDtls", "AmtDtls", "TxAmt", "Refs", "EndToEndId", "RmtInf", "Ustrd", "Strd",
    "CdtrRefInf", "Ref", "AddtlTxInf", "RltdPties", "Dbtr", "Cdtr", "Pty", "Nm"
)  # fmt: skip


class _Names:
    """The namespace-qualified tags of one camt.053 version, computed once per file."""

    def __init__(self, ns: str) -> None:
        for local in _LOCAL_NAMES:
            setattr(self, local, f"{{{ns}}}{local}")


def parse(stream: BinaryIO, expected_currency: str) -> Iterator[ParsedItem]:
    """Header, lines and end of each ``Stmt`` in the document, checked as described in the module docstring."""
    try:
        yield from _parse(stream, expected_currency)
    except XMLSyntaxError as exc:
        line, column = getattr(exc, "position", (0, 0))
        reason = str(exc).split(": line ")[0]
        raise ParseError(
            f"line {line}, column {column}", f"the XML is not well-formed or is cut short ({reason})"
        ) from None
    except DefusedXmlException as exc:
        raise ParseError("XML prolog", f"a DTD or entity declaration is not allowed in a statement ({exc})") from None


def _parse(stream: BinaryIO, expected_currency: str) -> Iterator[ParsedItem]:
    # "start" events name the root and BkToCstmrStmt; after that the statements are found in the tree (each
    # Stmt is a child of BkToCstmrStmt, appended when its start tag is read), and the parser is told to queue
    # no more events (``_stop_events``; any still queued are drained in C, a zero-length deque). A statement's
    # children are read after each chunk, all but the last (which may still be growing), and then deleted:
    # the tree never holds more than a chunk's worth of entries.
    parser = XMLPullParser(events=("start",))
    guard: DefusedXMLParser | None = DefusedXMLParser(forbid_dtd=True)
    n: _Names | None = None
    root: Element | None = None  # Document
    statements: Element | None = None  # BkToCstmrStmt
    stmt: _StatementReader | None = None
    stmt_count = 0
    seen = 0  # children of BkToCstmrStmt looked at
    chunk = stream.read(FIRST_CHUNK)
    while True:
        if chunk:
            if guard is not None:
                guard.feed(chunk)  # raises on a DTD before the C parser sees it
            parser.feed(chunk)
        else:
            parser.close()
        if statements is None:
            for _event, elem in parser.read_events():
                if n is None:
                    guard = None  # the root element has started: no DTD can follow
                    n, root = _check_root(elem), elem
                elif statements is None:
                    if elem.tag != n.BkToCstmrStmt:
                        raise ParseError(_local(elem.tag), "expected BkToCstmrStmt: this is not a camt.053 statement")
                    statements = elem
                    _stop_events(parser)
        else:
            deque(parser.read_events(), maxlen=0)
        if statements is not None:
            assert n is not None and root is not None
            if len(root) > 1:  # the schema's Document holds one BkToCstmrStmt and nothing else
                raise ParseError(_local(root[1].tag), "a camt.053 document holds one BkToCstmrStmt, nothing after it")
            while seen < len(statements):
                child = statements[seen]
                seen += 1
                if child.tag == n.Stmt:
                    if stmt is not None:  # the previous statement has ended, since this one starts
                        yield from stmt.drain(complete=True)
                    stmt_count += 1
                    stmt = _StatementReader(n, child, stmt_count, expected_currency)
                elif child.tag not in (n.GrpHdr, n.SplmtryData):  # the schema allows nothing else here
                    raise ParseError(
                        f"BkToCstmrStmt/{_local(child.tag)}",
                        "not part of a camt.053 message (only GrpHdr, Stmt, SplmtryData)",
                    )
            if seen > 1:  # every child but the last is complete and read: let it go (flat memory)
                del statements[: seen - 1]
                seen = 1
        if stmt is not None:
            yield from stmt.drain(complete=not chunk)
        if not chunk:
            break
        chunk = stream.read(CHUNK)
    if stmt_count == 0:
        raise ParseError("Document", "the file holds no statement (Stmt)")


def _stop_events(parser: XMLPullParser) -> None:
    """Tell the C parser to queue no more events: once ``BkToCstmrStmt`` is known, the statements are read off
    the tree, and an event tuple per element (about twenty per entry) is a third of the parse, drained unread.

    ``_setevents`` is how ``XMLPullParser`` itself asks the C parser for events; called again with none, it
    clears them. Where it is missing (a pure-Python parser), the events keep coming and are drained as before.
    """
    setevents = getattr(getattr(parser, "_parser", None), "_setevents", None)
    queue = getattr(parser, "_events_queue", None)
    if setevents is not None and queue is not None:
        setevents(queue, ())


def _check_root(root: Element) -> _Names:
    tag = root.tag
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if local != "Document" or not ns.startswith(NAMESPACE_PREFIX):
        raise ParseError(
            _local(tag),
            f"not a camt.053 statement (root {local!r} in namespace {ns or 'none'!r}, expected "
            f"Document in {NAMESPACE_PREFIX}NN)",
        )
    return _Names(ns)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _path(elem: Element | None, *tags: str) -> Element | None:
    """``elem/tag1/tag2/...`` by plain child lookups (the C fast path; a path string goes through ElementPath)."""
    for tag in tags:
        if elem is None:
            return None
        elem = elem.find(tag)
    return elem


def _text(elem: Element | None) -> str:
    return (elem.text or "").strip() if elem is not None else ""


class _StatementReader:
    """The state of one ``Stmt`` while it streams: the parts before the entries, then running totals."""

    def __init__(self, n: _Names, element: Element, index: int, currency: str) -> None:
        self.n = n
        self.element = element
        self.path = f"Stmt[{index}]"
        self.currency = currency
        self.header: StatementHeader | None = None
        self.statement_id = ""
        self.sequence: int | None = None
        self.legal_sequence: int | None = None
        self.account = ""
        self.balances: dict[str, tuple[Decimal, date, str]] = {}
        self.bal_count = 0
        self.summary_count: tuple[int, str] | None = None
        self.summary_net: tuple[Decimal, str] | None = None
        self.entry_count = 0
        self.line_count = 0
        self.total = Decimal("0.000")
        self.days: dict[str, date] = {}

    # -- the parts before the entries ---------------------------------------------------------------------
    def statement_part(self, elem: Element) -> None:
        n, tag = self.n, elem.tag
        if tag == n.Id:
            self.statement_id = _text(elem)
        elif tag == n.ElctrncSeqNb:
            self.sequence = self._integer(elem, "ElctrncSeqNb")
        elif tag == n.LglSeqNb:
            self.legal_sequence = self._integer(elem, "LglSeqNb")
        elif tag == n.Acct:
            self._account(elem)
        elif tag == n.Bal:
            self.bal_count += 1
            self._balance(elem, f"{self.path}/Bal[{self.bal_count}]")
        elif tag == n.TxsSummry:
            self._summary(elem)

    def _integer(self, elem: Element, name: str) -> int:
        text = _text(elem)
        if not text.isdigit():
            raise ParseError(f"{self.path}/{name}", f"{text!r} is not a whole number")
        return int(text)

    def _account(self, elem: Element) -> None:
        n, position = self.n, f"{self.path}/Acct"
        ident = elem.find(n.Id)
        if ident is not None:
            self.account = _text(ident.find(n.IBAN)) or _text(_path(ident, n.Othr, n.Id))
        ccy = elem.find(n.Ccy)
        if ccy is not None:
            check_currency(_text(ccy), self.currency, f"{position}/Ccy", "the account's currency")

    def _balance(self, elem: Element, position: str) -> None:
        n = self.n
        if self.header is not None:
            raise ParseError(position, "a balance after the entries (camt.053 puts balances before entries)")
        kind = _path(elem, n.Tp, n.CdOrPrtry)
        code = (_text(kind.find(n.Cd)) or _text(kind.find(n.Prtry))) if kind is not None else ""
        if not code:
            raise ParseError(f"{position}/Tp", "the balance type (Tp/CdOrPrtry/Cd) is missing")
        amount = self._signed_amount(elem.find(n.Amt), elem.find(n.CdtDbtInd), position, f"the {code} balance")
        day = self._day(elem.find(n.Dt), f"{position}/Dt", f"the date of the {code} balance (Dt)")
        if code in self.balances:
            raise ParseError(position, f"a second {code} balance (the first is {self.balances[code][2]})")
        self.balances[code] = (amount, day, position)

    def _signed_amount(self, amt: Element | None, mark_elem: Element | None, position: str, what: str) -> Decimal:
        """``Amt`` signed by its sibling ``CdtDbtInd``, in the account's currency."""
        if amt is None:
            raise ParseError(f"{position}/Amt", f"{what}: the amount (Amt) is missing")
        check_currency(amt.get("Ccy"), self.currency, f"{position}/Amt", what)
        amount = exact_amount(amt.text, f"{position}/Amt", what)
        mark = _text(mark_elem)
        if mark == "DBIT":
            return -amount
        if mark != "CRDT":
            raise ParseError(f"{position}/CdtDbtInd", f"{what}: CdtDbtInd {mark!r} is neither CRDT nor DBIT")
        return amount

    def _summary(self, elem: Element) -> None:
        """``TxsSummry/TtlNtries``: the bank's own count and net of the entries (plain numbers, no currency)."""
        n, position = self.n, f"{self.path}/TxsSummry/TtlNtries"
        totals = elem.find(n.TtlNtries)
        if totals is None:
            return
        count = totals.find(n.NbOfNtries)
        if count is not None:
            self.summary_count = (self._integer(count, "TxsSummry/TtlNtries/NbOfNtries"), f"{position}/NbOfNtries")
        net = totals.find(n.TtlNetNtry)  # camt.053.001.03 and later: TtlNetNtry/Amt + CdtDbtInd
        holder, amount = (net, net.find(n.Amt)) if net is not None else (totals, totals.find(n.TtlNetNtryAmt))
        if amount is None:
            return
        where = f"{position}/{'TtlNetNtry' if net is not None else 'TtlNetNtryAmt'}"
        value = exact_amount(amount.text, where, "the net of the entries")
        self.summary_net = (-value if _text(holder.find(n.CdtDbtInd)) == "DBIT" else value, where)

    def make_header(self) -> StatementHeader:
        """The header, once every part before the first entry is read; refuses what a statement must have."""
        if not self.statement_id:
            raise ParseError(f"{self.path}/Id", "the statement identification (Id) is missing")
        if not self.account:
            raise ParseError(f"{self.path}/Acct", "the account (Acct/Id/IBAN or Acct/Id/Othr/Id) is missing")
        opening = next((self.balances[code] for code in OPENING_CODES if code in self.balances), None)
        if opening is None:
            raise ParseError(f"{self.path}/Bal", "the opening booked balance (Bal of type OPBD or PRCD) is missing")
        if CLOSING_CODE not in self.balances:
            raise ParseError(f"{self.path}/Bal", "the closing booked balance (Bal of type CLBD) is missing")
        self.header = StatementHeader(
            account=self.account,
            statement_id=self.statement_id,
            sequence=self.sequence if self.sequence is not None else self.legal_sequence,
            currency=self.currency,
            opening_balance=opening[0],
            opening_date=opening[1],
        )
        return self.header

    # -- reading the statement's children as they complete -------------------------------------------------
    def drain(self, *, complete: bool) -> Iterator[ParsedItem]:
        """Read and drop the children parsed so far (all, once the statement is complete; else all but the last)."""
        element = self.element
        count = len(element) if complete else len(element) - 1
        if count > 0:
            ntry = self.n.Ntry
            for child in element[:count]:
                if child.tag == ntry:
                    if self.header is None:
                        yield self.make_header()
                    self.entry_count += 1
                    lines = self._entry(child, f"{self.path}/Ntry[{self.entry_count}]")
                    self.line_count += len(lines)
                    yield from lines
                else:
                    self.statement_part(child)
            del element[:count]
        if complete:
            if self.header is None:  # a statement without entries
                yield self.make_header()
            yield self.finish()

    def _entry(self, ntry: Element, position: str) -> list[StatementLine]:
        n = self.n
        part = {child.tag: child for child in ntry}  # one pass over the entry; NtryDtls may repeat: see below
        amount = self._signed_amount(part.get(n.Amt), part.get(n.CdtDbtInd), position, "the entry")
        reversal = _flag(part.get(n.RvslInd), f"{position}/RvslInd")
        status_elem = part.get(n.Sts)
        status = _text(status_elem)
        if not status and status_elem is not None:
            status = _text(status_elem.find(n.Cd))  # camt.053.001.08 and later: Sts/Cd
        if status != "BOOK":
            raise ParseError(
                f"{position}/Sts", f"entry status {status or 'missing'!r}: a statement holds booked (BOOK) entries"
            )
        booked = self._day(part.get(n.BookgDt), f"{position}/BookgDt", "the booking date (BookgDt)")
        value_elem = part.get(n.ValDt)
        valued = self._day(value_elem, f"{position}/ValDt", "ValDt") if value_elem is not None else None
        entry_ref = _text(part.get(n.AcctSvcrRef)) or _text(part.get(n.NtryRef))
        entry_info = _text(part.get(n.AddtlNtryInf))
        self.total += amount
        if n.NtryDtls not in part:
            return [
                StatementLine(
                    position=position,
                    booking_date=booked,
                    value_date=valued,
                    amount=amount,
                    currency=self.currency,
                    reference="",
                    bank_reference=entry_ref,
                    description=entry_info,
                    is_reversal=reversal,
                )
            ]
        details = [tx for nd in ntry.findall(n.NtryDtls) for tx in nd.findall(n.TxDtls)]
        several = len(details) > 1
        lines = []
        parts_total = Decimal("0.000")
        for k, tx in enumerate(details, 1):
            tx_position = f"{position}/TxDtls[{k}]" if several else position
            tx_part = {child.tag: child for child in tx}
            share = self._tx_amount(tx_part, tx_position, amount, several=several)
            parts_total += share
            refs = tx_part.get(n.Refs)
            end_to_end, bank_ref = "", entry_ref
            if refs is not None:
                end_to_end = _text(refs.find(n.EndToEndId))
                if end_to_end == "NOTPROVIDED":
                    end_to_end = ""
                bank_ref = _text(refs.find(n.AcctSvcrRef)) or entry_ref
            remittance = tx_part.get(n.RmtInf)
            creditor_ref, free_text = "", ""
            if remittance is not None:
                creditor_ref = _text(_path(remittance, n.Strd, n.CdtrRefInf, n.Ref))
                free_text = " ".join(_text(u) for u in remittance.findall(n.Ustrd))
            description = (
                free_text
                or _text(tx_part.get(n.AddtlTxInf))
                or entry_info
                or self._counterparty(tx_part.get(n.RltdPties), share)
            )
            lines.append(
                StatementLine(
                    position=tx_position,
                    booking_date=booked,
                    value_date=valued,
                    amount=share,
                    currency=self.currency,
                    reference=end_to_end or creditor_ref,
                    bank_reference=bank_ref,
                    description=description,
                    is_reversal=reversal,
                )
            )
        if parts_total != amount:
            raise ParseError(
                f"{position}/NtryDtls", f"the transactions add up to {parts_total}, but the entry amount is {amount}"
            )
        return lines

    def _tx_amount(
        self, tx_part: dict[str, Element], position: str, entry_amount: Decimal, *, several: bool
    ) -> Decimal:
        """A transaction's signed share of its entry: ``TxDtls/Amt`` (v3+) or ``AmtDtls/TxAmt/Amt`` (v2)."""
        n = self.n
        amt = tx_part.get(n.Amt)
        if amt is None:
            amt = _path(tx_part.get(n.AmtDtls), n.TxAmt, n.Amt)
        if amt is None:
            if several:
                raise ParseError(f"{position}/Amt", "a transaction of a batch entry has no amount (Amt)")
            return entry_amount
        check_currency(amt.get("Ccy"), self.currency, f"{position}/Amt", "the transaction")
        value = exact_amount(amt.text, f"{position}/Amt", "the transaction")
        mark = _text(tx_part.get(n.CdtDbtInd))
        if mark == "DBIT" or (not mark and entry_amount < 0):
            return -value
        if mark not in ("", "CRDT"):
            raise ParseError(f"{position}/CdtDbtInd", f"CdtDbtInd {mark!r} is neither CRDT nor DBIT")
        return value

    def _day(self, elem: Element | None, position: str, what: str) -> date:
        """A ``DateAndDateTimeChoice`` (``Dt`` or ``DtTm``); plain dates are remembered, a statement has few."""
        if elem is None:
            raise ParseError(position, f"{what} is missing")
        n = self.n
        text = _text(elem.find(n.Dt))
        if text:
            day = self.days.get(text)
            if day is None:
                day = self.days[text] = iso_date(text, position, what)
            return day
        return iso_date(_text(elem.find(n.DtTm)), position, what)

    def _counterparty(self, parties: Element | None, amount: Decimal) -> str:
        """The other party's name: the debtor of money in, the creditor of money out."""
        if parties is None:
            return ""
        n = self.n
        party = parties.find(n.Dbtr if amount >= 0 else n.Cdtr)
        if party is None:
            return ""
        return _text(party.find(n.Nm)) or _text(_path(party, n.Pty, n.Nm))

    # -- the end of the statement -----------------------------------------------------------------------------
    def finish(self) -> StatementEnd:
        """The trailer, after checking the entries against the balances and the transaction summary."""
        assert self.header is not None
        closing, closing_date, closing_position = self.balances[CLOSING_CODE]
        if self.summary_count is not None and self.summary_count[0] != self.entry_count:
            raise ParseError(
                self.summary_count[1],
                f"the summary counts {self.summary_count[0]} entries, the statement has {self.entry_count}",
            )
        if self.summary_net is not None and self.summary_net[0] != self.total:
            raise ParseError(
                self.summary_net[1],
                f"the summary's net of the entries is {self.summary_net[0]}, the entries add up to {self.total}",
            )
        opening = self.header.opening_balance
        if opening + self.total != closing:
            raise ParseError(
                closing_position,
                f"opening balance {opening} + entries {self.total} = {opening + self.total}, "
                f"but the closing balance (CLBD) is {closing}",
            )
        return StatementEnd(StatementTrailer(closing, closing_date, self.line_count))


def _flag(elem: Element | None, position: str) -> bool:
    if elem is None:
        return False
    text = _text(elem)
    if text not in TRUE_VALUES:
        raise ParseError(position, f"{text!r} is not a boolean (true/false)")
    return TRUE_VALUES[text]
