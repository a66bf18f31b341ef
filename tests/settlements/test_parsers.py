"""The statement parsers: exact lines from the shared samples and our OMR fixtures, refusals that say where
and why, and flat memory over 200,000 lines. Pure parsing: no database."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bench.make_statements import amount_for, bank_reference_for, reference_for, write_camt053, write_gateway_csv
from settlements.parsers import (
    ParseError,
    SettlementBatch,
    StatementHeader,
    StatementLine,
    StatementTrailer,
    read_statements,
)
from tests.settlements.statements import CAMT_ENTRY, CAMT_HEAD

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = REPO.parent / "shared" / "samples"  # CI clones the repo with shared/ beside it

D = Decimal


@dataclass
class Parsed:
    header: StatementHeader
    lines: list[StatementLine]
    trailer: StatementTrailer
    batches: tuple[SettlementBatch, ...]


def parse(kind: str, data: bytes, currency: str = "OMR") -> list[Parsed]:
    return [
        Parsed(s.header, list(s.lines()), s.trailer, s.batches)
        for s in read_statements(kind, io.BytesIO(data), expected_currency=currency)
    ]


def refusal(kind: str, data: bytes, currency: str = "OMR") -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(kind, data, currency)
    error = caught.value
    assert str(error) == f"{error.position}: {error.reason}"
    return error


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared sample {path} is not beside the repository")
    return path.read_bytes()


def replaced(data: bytes, old: str, new: str) -> bytes:
    assert data.count(old.encode()) == 1, f"{old!r} must occur exactly once"
    return data.replace(old.encode(), new.encode())


def line(position: str, booked: date, valued: date | None, amount: str, reference: str, bank_reference: str,
         description: str, *, reversal: bool = False, currency: str = "OMR") -> StatementLine:  # fmt: skip
    return StatementLine(
        position=position,
        booking_date=booked,
        value_date=valued,
        amount=D(amount),
        currency=currency,
        reference=reference,
        bank_reference=bank_reference,
        description=description,
        is_reversal=reversal,
    )


JAN = {day: date(2025, 1, day) for day in range(14, 18)}


# -- camt.053 -------------------------------------------------------------------------------------------------
def test_camt053_omr_fixture_reads_to_exact_lines():
    [statement] = parse("camt053", fixture("camt053-omr-seq41.xml"))
    assert statement.header == StatementHeader(
        account="0312004567890011",  # a plain account number, not an IBAN
        statement_id="BMCT-0312004567890011-20250115",
        sequence=41,
        currency="OMR",
        opening_balance=D("1250.500"),
        opening_date=JAN[14],
    )
    assert statement.lines == [
        line("Stmt[1]/Ntry[1]", JAN[15], JAN[15], "25.750", "OT3F2A9C1B7D01", "BMCT250115000001",
             "e-Rial top-up OT3F2A9C1B7D01"),
        line("Stmt[1]/Ntry[2]", JAN[15], JAN[15], "-12.125", "OT3F2A9C1B7C77", "BMCT250114000917",
             "Reversal of credit transfer returned by the payer's bank", reversal=True),
        # one entry of 150.000 carrying two transactions: a line each
        line("Stmt[1]/Ntry[3]/TxDtls[1]", JAN[15], JAN[16], "100.125", "OT3F2A9C1B7D02", "BMCT250115000003-1",
             "e-Rial top-up OT3F2A9C1B7D02"),
        line("Stmt[1]/Ntry[3]/TxDtls[2]", JAN[15], JAN[16], "49.875", "OT3F2A9C1B7D03", "BMCT250115000003-2",
             "FATMA KHALFAN AL HINAI"),
        line("Stmt[1]/Ntry[4]", JAN[15], None, "-1.375", "", "BMCT250115000004",
             "Account maintenance fee January 2025"),
    ]  # fmt: skip
    assert all(str(x.amount).split(".")[1].__len__() == 3 for x in statement.lines)  # exactly 3 places
    assert statement.trailer == StatementTrailer(closing_balance=D("1412.750"), closing_date=JAN[15], line_count=5)
    assert statement.batches == ()


def _camt_statement(number: int, amounts: list[str]) -> str:
    head = CAMT_HEAD.format(msg=f"S{number}", day="2025-01-15", seq=number, opening="0.000",
                            closing=sum(D(a) for a in amounts))  # fmt: skip
    head = head.split("<Stmt>", 1)[1]
    body = "".join(
        CAMT_ENTRY.format(amount=a, day="2025-01-15", n=k, reference=f"R{number}-{k}") for k, a in enumerate(amounts, 1)
    )
    return f"<Stmt>{head}{body}</Stmt>\n"


def test_camt053_two_statements_in_one_document_each_read_with_their_own_lines():
    """Statements follow each other under BkToCstmrStmt; each ends where the next begins, however the file is
    cut into chunks (the second starts well past the first read)."""
    first = _camt_statement(1, ["1.000"] * 3000)  # longer than a chunk
    second = _camt_statement(2, ["2.500", "0.125"])
    document = CAMT_HEAD.split("<Stmt>", 1)[0] + first + second + "</BkToCstmrStmt></Document>\n"
    one, two = parse("camt053", document.encode())
    assert (one.header.sequence, len(one.lines), one.trailer.closing_balance) == (1, 3000, D("3000.000"))
    assert (two.header.sequence, two.trailer.closing_balance) == (2, D("2.625"))
    assert [(x.position, x.amount, x.reference) for x in two.lines] == [
        ("Stmt[2]/Ntry[1]", D("2.500"), "R2-1"),
        ("Stmt[2]/Ntry[2]", D("0.125"), "R2-2"),
    ]


def test_camt053_supplementary_data_is_not_a_statement_even_with_a_stmt_inside():
    extra = "<SplmtryData><Envlp><Stmt><Id>NOT-A-STATEMENT</Id></Stmt></Envlp></SplmtryData>\n"
    head = CAMT_HEAD.split("<Stmt>", 1)[0]
    document = head + _camt_statement(1, ["1.000"]) + extra + _camt_statement(2, ["3.000"])
    one, two = parse("camt053", (document + "</BkToCstmrStmt></Document>\n").encode())
    assert [(s.header.sequence, [x.amount for x in s.lines]) for s in (one, two)] == [
        (1, [D("1.000")]),
        (2, [D("3.000")]),
    ]


def test_camt053_a_second_message_after_the_first_is_refused_not_dropped():
    """Two BkToCstmrStmt in one Document is no camt.053: refused whole, never read as one statement."""
    head = CAMT_HEAD.split("<Stmt>", 1)[0]
    second = "<BkToCstmrStmt><GrpHdr><MsgId>M2</MsgId></GrpHdr>" + _camt_statement(2, ["3.000"]) + "</BkToCstmrStmt>"
    document = head + _camt_statement(1, ["1.000"] * 500) + "</BkToCstmrStmt>" + second + "</Document>\n"
    error = refusal("camt053", document.encode())
    assert error.position == "BkToCstmrStmt" and "one BkToCstmrStmt" in error.reason


def test_camt053_parser_stops_queueing_events_but_keeps_building_the_tree():
    """The camt.053 speed-up rests on the C parser honouring ``_setevents`` with no events (how
    ``XMLPullParser`` itself asks for them) while it goes on building the tree the statements are read from.
    If a Python release changes either, this fails: not a silent slow-down, and never a lost entry."""
    from xml.etree.ElementTree import XMLPullParser

    from settlements.parsers.camt053 import _stop_events

    parser = XMLPullParser(events=("start",))
    parser.feed(b"<Document><BkToCstmrStmt>")
    started = [elem for _event, elem in parser.read_events()]
    assert [elem.tag for elem in started] == ["Document", "BkToCstmrStmt"]
    _stop_events(parser)
    parser.feed(b"<Stmt><Ntry><Amt>1.000</Amt></Ntry></Stmt><Stmt/></BkToCstmrStmt></Document>")
    parser.close()
    assert list(parser.read_events()) == []
    statements = started[1]
    assert [child.tag for child in statements] == ["Stmt", "Stmt"]
    assert statements[0].find("Ntry/Amt").text == "1.000"


@pytest.mark.parametrize(
    ("document", "position", "reason"),
    [
        ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrNtfctn/></Document>',
         "BkToCstmrNtfctn", "expected BkToCstmrStmt"),
        ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr/><Ntfctn/>'
         "</BkToCstmrStmt></Document>", "BkToCstmrStmt/Ntfctn", "not part of a camt.053 message"),
        ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr/>'
         "</BkToCstmrStmt></Document>", "Document", "no statement"),
    ],
)  # fmt: skip
def test_camt053_without_a_statement_is_refused(document, position, reason):
    error = refusal("camt053", document.encode())
    assert error.position == position and reason in error.reason


def test_camt053_second_fixture_skips_sequence_42_but_continues_the_balance():
    [first] = parse("camt053", fixture("camt053-omr-seq41.xml"))
    [second] = parse("camt053", fixture("camt053-omr-seq43.xml"))
    assert (first.header.sequence, second.header.sequence) == (41, 43)
    assert second.header.account == first.header.account
    assert second.header.opening_balance == first.trailer.closing_balance
    assert second.lines == [
        line("Stmt[1]/Ntry[1]", JAN[17], JAN[17], "40.000", "OT3F2A9C1B7D10", "BMCT250117000001",
             "e-Rial top-up OT3F2A9C1B7D10"),
    ]  # fmt: skip
    assert second.trailer == StatementTrailer(D("1452.750"), JAN[17], 1)


def test_camt053_shared_sample_is_refused_for_an_omr_account():
    error = refusal("camt053", sample("camt053-v2-minimal.xml"), "OMR")
    assert error.position == "Stmt[1]/Acct/Ccy"
    assert "currency EUR where OMR is expected" in error.reason


def test_camt053_shared_sample_is_refused_in_eur_too_for_its_closing_balance_in_sek():
    """The sample's balances are in EUR, SEK, CHF and JPY: a strict reader refuses the SEK closing balance."""
    error = refusal("camt053", sample("camt053-v2-minimal.xml"), "EUR")
    assert error.position == "Stmt[1]/Bal[2]/Amt"
    assert "currency SEK where EUR is expected" in error.reason


def test_camt053_shared_sample_with_its_balances_in_eur_reads_in_eur():
    """The sample with its other-currency balances put in EUR (and the closing balance a credit, as
    18.15 + 8.85 = 27.00 says): version 001.02 layout, structured remittance, IBAN, sequence numbers."""
    data = sample("camt053-v2-minimal.xml")
    data = replaced(data, '<Amt Ccy="SEK">27.00</Amt>\n                <CdtDbtInd>DBIT',
                    '<Amt Ccy="EUR">27.00</Amt>\n                <CdtDbtInd>CRDT')  # fmt: skip
    data = replaced(data, '<Amt Ccy="CHF">35.00</Amt>', '<Amt Ccy="EUR">35.00</Amt>')
    data = replaced(data, '<Amt Ccy="JPY">2700</Amt>', '<Amt Ccy="EUR">2700</Amt>')
    [statement] = parse("camt053", data, "EUR")
    assert statement.header == StatementHeader(
        account="NL26VAYB8060476890",
        statement_id="253EURNL26VAYB8060476890",
        sequence=12312,
        currency="EUR",
        opening_balance=D("18.150"),
        opening_date=date(2014, 12, 30),
    )
    assert statement.lines == [
        line("Stmt[1]/Ntry[1]", date(2014, 12, 31), date(2015, 1, 2), "8.850", "4654654654654654", "",
             "NAME NAME", currency="EUR"),
    ]  # fmt: skip
    assert statement.trailer == StatementTrailer(D("27.000"), date(2014, 12, 31), 1)


CAMT_CLOSING = """      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="OMR">1412.750</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2025-01-15</Dt></Dt>
      </Bal>
"""

ENTRY_4_HEAD = """<Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2025-01-15</Dt></BookgDt>
        <AcctSvcrRef>BMCT250115000004"""


@pytest.mark.parametrize(
    ("old", "new", "position", "reason"),
    [
        pytest.param(CAMT_CLOSING, "", "Stmt[1]/Bal", "closing booked balance (Bal of type CLBD) is missing",
                     id="missing-closing-balance"),
        pytest.param('"OMR">25.750<', '"OMR">1,2345<', "Stmt[1]/Ntry[1]/Amt", "'1,2345' is not a plain decimal",
                     id="decimal-comma-amount"),
        pytest.param('"OMR">25.750<', '"OMR">25.7501<', "Stmt[1]/Ntry[1]/Amt", "has more than 3 decimal places",
                     id="four-decimals"),
        pytest.param('"OMR">1412.750<', '"OMR">1412.751<', "Stmt[1]/Bal[2]",
                     "opening balance 1250.500 + entries 162.250 = 1412.750, but the closing balance (CLBD) is "
                     "1412.751", id="wrong-total"),
        pytest.param('"OMR">49.875<', '"OMR">49.870<', "Stmt[1]/Ntry[3]/NtryDtls",
                     "the transactions add up to 149.995, but the entry amount is 150.000", id="split-mismatch"),
        pytest.param('<Amt Ccy="OMR">25.750', '<Amt Ccy="USD">25.750', "Stmt[1]/Ntry[1]/Amt",
                     "currency USD where OMR is expected", id="foreign-entry"),
        pytest.param(ENTRY_4_HEAD, ENTRY_4_HEAD.replace("<BookgDt><Dt>2025-01-15</Dt></BookgDt>", ""),
                     "Stmt[1]/Ntry[4]/BookgDt", "the booking date (BookgDt) is missing", id="missing-booking-date"),
        pytest.param("<NtryRef>1</NtryRef>\n        <Amt Ccy=\"OMR\">25.750</Amt>",
                     "<NtryRef>1</NtryRef>", "Stmt[1]/Ntry[1]/Amt", "the amount (Amt) is missing",
                     id="missing-amount"),
        pytest.param(ENTRY_4_HEAD, ENTRY_4_HEAD.replace("BOOK", "PDNG"), "Stmt[1]/Ntry[4]/Sts",
                     "entry status 'PDNG'", id="pending-entry"),
        pytest.param("<NbOfNtries>4<", "<NbOfNtries>5<", "Stmt[1]/TxsSummry/TtlNtries/NbOfNtries",
                     "the summary counts 5 entries, the statement has 4", id="summary-count"),
        pytest.param("camt.053.001.08", "camt.052.001.08", "Document", "not a camt.053 statement",
                     id="camt052-not-053"),
        pytest.param("<ElctrncSeqNb>41<", "<ElctrncSeqNb>4l<", "Stmt[1]/ElctrncSeqNb", "not a whole number",
                     id="bad-sequence"),
    ],
)  # fmt: skip
def test_camt053_malformed_file_is_refused_naming_element_and_reason(old, new, position, reason):
    error = refusal("camt053", replaced(fixture("camt053-omr-seq41.xml"), old, new))
    assert error.position == position
    assert reason in error.reason


def test_camt053_truncated_file_is_refused_at_the_line_where_it_stops():
    data = fixture("camt053-omr-seq41.xml")
    cut = data[: data.index(b"<NtryRef>3</NtryRef>")]
    last_line = cut.count(b"\n") + 1
    error = refusal("camt053", cut)
    assert error.position.startswith(f"line {last_line}, column ")
    assert "not well-formed or is cut short" in error.reason


def test_camt053_refusal_after_the_lines_comes_before_the_trailer():
    """A wrong total is found only at the end: the lines were streamed, but no trailer is ever handed out, so an
    importer inside one transaction rolls all of them back."""
    data = replaced(fixture("camt053-omr-seq41.xml"), '"OMR">1412.750<', '"OMR">1412.751<')
    statement = next(read_statements("camt053", io.BytesIO(data)))
    seen = []
    with pytest.raises(ParseError, match=r"^Stmt\[1\]/Bal\[2\]: "):
        seen.extend(statement.lines())
    assert len(seen) == 5
    with pytest.raises(RuntimeError, match=r"only after all of Statement\.lines"):
        statement.trailer  # noqa: B018


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE Document SYSTEM "http://example.invalid/camt.dtd">',
    ],
    ids=["entity-expansion", "external-entity", "external-dtd"],
)
def test_camt053_dtd_and_entities_are_refused_before_anything_is_read(doctype):
    data = fixture("camt053-omr-seq41.xml")
    data = replaced(data, "?>\n", f"?>\n{doctype}\n")
    data = replaced(data, "<Ustrd>e-Rial top-up OT3F2A9C1B7D01<", "<Ustrd>&b;&xxe;<")
    error = refusal("camt053", data)
    assert error.position == "XML prolog"
    assert "DTD or entity declaration is not allowed" in error.reason


# -- MT940 ------------------------------------------------------------------------------------------------
def test_mt940_omr_fixture_reads_two_statements_to_exact_lines():
    first, second = parse("mt940", fixture("mt940-omr.sta"))
    assert first.header == StatementHeader("0312004567890011", "BMCT250115041", 41, "OMR", D("1250.500"), JAN[14])
    assert first.lines == [
        line("line 6", JAN[15], JAN[15], "25.750", "OT3F2A9C1B7D01", "BMCT0001",
             "e-Rial top-up OT3F2A9C1B7D01\nAHMED SAID AL BALUSHI"),
        # RC: the reversal of a credit takes the money back out
        line("line 9", JAN[15], JAN[15], "-12.125", "OT3F2A9C1B7C77", "BMCT0002",
             "Reversal of credit transfer returned by the payer's bank", reversal=True),
        line("line 12", JAN[15], JAN[16], "100.125", "OT3F2A9C1B7D02", "BMCT0003", "e-Rial top-up OT3F2A9C1B7D02"),
    ]  # fmt: skip
    assert first.trailer == StatementTrailer(D("1364.250"), JAN[15], 3)
    assert second.header == StatementHeader("0312004567890011", "BMCT250116042", 42, "OMR", D("1364.250"), JAN[15])
    assert second.lines == [
        line("line 22", JAN[16], JAN[16], "49.875", "OT3F2A9C1B7D03", "BMCT0004", "e-Rial top-up OT3F2A9C1B7D03"),
        line("line 24", JAN[16], JAN[16], "-1.375", "", "BMCT0005", "Account maintenance fee January 2025"),
    ]
    assert second.trailer == StatementTrailer(D("1412.750"), JAN[16], 2)


ABN_FIRST_LINES = [
    ("line 8", date(2011, 5, 24), date(2011, 5, 24), "-9.000",
     "GIRO   428428 KPN - DIGITENNE    BETALINGSKENM.  000000042188659\n"
     "5314606715                       BETREFT FACTUUR D.D. 20-05-2011\nINCL. 1,44 BTW"),
    ("line 12", date(2011, 5, 23), date(2011, 5, 21), "-11.590",
     "BEA   NR:XXX1234   21.05.11/12.54 DIRCKIII FIL2500 KATWIJK,PAS999"),
    ("line 14", date(2011, 5, 23), date(2011, 5, 23), "-11.630",
     "BEA   NR:XXX1234   23.05.11/09.08 DIGROS FIL1015 KATWIJK Z,PAS999"),
    ("line 16", date(2011, 5, 23), date(2011, 5, 22), "-11.800",
     "BEA   NR:XXX1234   22.05.11/14.25 MC DONALDS A44 LEIDEN,PAS999"),
    ("line 18", date(2011, 5, 23), date(2011, 5, 21), "-13.450",
     "BEA   NR:XXX1234   21.05.11/12.09 PRINCE FIL. 55 KATWIJK Z,PAS999"),
    ("line 20", date(2011, 5, 23), date(2011, 5, 21), "-15.490",
     "BEA   NR:XXX1234   21.05.11/12.55 DIRX FIL6017 KATWIJK ZH ,PAS999"),
    ("line 23", date(2011, 5, 23), date(2011, 5, 21), "-107.000",  # "107," in the file
     "BEA   NR:XXX1234   21.05.11/12.04 HANS ANDERS OPT./056 KAT,PAS999"),
    ("line 25", date(2011, 5, 23), date(2011, 5, 22), "-141.480",
     "BEA   NR:XXX1234   22.05.11/13.45 MYCOM DEN HAAG  S-GRAVEN,PAS999"),
]  # fmt: skip


def abn_line(position: str, booked: date, valued: date, amount: str, description: str) -> StatementLine:
    return line(position, booked, valued, amount, "", "", description, currency="EUR")


def test_mt940_shared_sample_streams_its_lines_in_eur_then_is_refused_for_its_closing_balance():
    """The sample's own balances do not add up (3236,28 - 321,44 is not 876,84): every line reads exactly
    (decimal comma, ``9,`` and ``107,``), then the closing balance is refused."""
    statement = next(read_statements("mt940", io.BytesIO(sample("mt940-abnamro.sta")), expected_currency="EUR"))
    assert statement.header == StatementHeader(
        "517852257", "ABN AMRO BANK NV", 19321, "EUR", D("3236.280"), date(2011, 5, 22)
    )
    seen = []
    with pytest.raises(ParseError) as caught:
        seen.extend(statement.lines())
    assert seen == [abn_line(*row) for row in ABN_FIRST_LINES]
    assert caught.value.position == "line 27"
    assert caught.value.reason == (
        "opening balance 3236.280 + lines -321.440 = 2914.840, but the closing balance :62F: is 876.840"
    )


def test_mt940_shared_sample_with_balances_that_add_up_reads_both_statements():
    data = replaced(sample("mt940-abnamro.sta"), ":62F:C110523EUR876,84", ":62F:C110523EUR2914,84")
    data = replaced(data, ":62M:C110524EUR1849,75", ":62M:C110524EUR2852,35")
    first, second = parse("mt940", data, "EUR")
    assert first.lines == [abn_line(*row) for row in ABN_FIRST_LINES]
    assert first.trailer == StatementTrailer(D("2914.840"), date(2011, 5, 23), 8)
    assert second.header == StatementHeader(
        "517852257", "ABN AMRO BANK NV", 19322, "EUR", D("2876.840"), date(2011, 5, 23)
    )
    assert second.lines == [
        abn_line("line 36", date(2011, 5, 24), date(2011, 5, 24), "-9.490",
                 "BEA   NR:XXX1234   24.05.11/09.18 PETS PLACE KATWIJK KATWI,PAS999"),
        abn_line("line 38", date(2011, 5, 24), date(2011, 5, 24), "-15.000",
                 "52.89.39.882                    MYCOM DEN HAAG"),
    ]  # fmt: skip
    assert second.trailer == StatementTrailer(D("2852.350"), date(2011, 5, 24), 2)


def test_mt940_shared_sample_is_refused_for_an_omr_account():
    error = refusal("mt940", sample("mt940-abnamro.sta"), "OMR")
    assert error.position == "line 7"
    assert "currency EUR where OMR is expected (the :60F: balance)" in error.reason


@pytest.mark.parametrize(
    ("old", "new", "position", "reason"),
    [
        pytest.param(":62F:C250115OMR1364,250\n:64:C250115OMR1364,250\n", "", "line 14",
                     "statement 1 ends without a closing balance :62F:/:62M:", id="missing-closing-balance"),
        pytest.param(":61:2501150115C25,750", ":61:2501150115C1,2345", "line 6", "'1,2345' has more than 3 decimal",
                     id="four-decimals"),
        pytest.param(":62F:C250115OMR1364,250", ":62F:C250115OMR1364,255", "line 14",
                     "opening balance 1250.500 + lines 113.750 = 1364.250, but the closing balance :62F: is 1364.255",
                     id="wrong-total"),
        pytest.param(":61:2501150115C25,750", ":61:2501150115C25.750", "line 6",
                     "amount '25' is not a SWIFT amount", id="decimal-point"),
        pytest.param(":60F:C250114OMR1250,500", ":60F:C250114USD1250,500", "line 5",
                     "currency USD where OMR is expected", id="foreign-opening"),
        pytest.param(":60F:C250114OMR1250,500", ":60F:C250114OMR1250,500XYZ", "line 5",
                     "not in the SWIFT layout", id="trailing-junk"),
        pytest.param(":60F:C250114OMR", ":60F:C250230OMR", "line 5", "cannot be read", id="impossible-date"),
        pytest.param(":25:0312004567890011\n:28C:00041/1", ":28C:00041/1", "line 4",
                     ":25: must come before the opening balance", id="missing-account"),
        pytest.param(":28C:00041/1\n", ":28C:00041/1\n:99:SOMETHING\n", "line 5", "unknown field :99:",
                     id="unknown-field"),
        pytest.param(":60F:C250114OMR1250,500\n", "", "line 5", "a :61: statement line before the opening balance",
                     id="missing-opening-balance"),
    ],
)  # fmt: skip
def test_mt940_malformed_file_is_refused_naming_line_and_reason(old, new, position, reason):
    error = refusal("mt940", replaced(fixture("mt940-omr.sta"), old, new))
    assert error.position == position
    assert reason in error.reason


# -- gateway settlement CSV -------------------------------------------------------------------------------
def test_gateway_csv_fixture_reads_lines_and_batches():
    [report] = parse("gateway_csv", fixture("gateway-omr.csv"))
    assert report.header == StatementHeader("card-gateway", "", None, "OMR", D("0.000"), JAN[15])

    def card(position, day, net, reference, partner, gross, fee, batch, refund=False):
        return StatementLine(position, day, None, D(net), "OMR", reference, partner,
                             "card refund" if refund else "card payment", refund, batch, D(gross), D(fee))  # fmt: skip

    assert report.lines == [
        card("line 2", JAN[15], "9.850", "OT3F2A9C1B7E01", "gw_000812", "10.000", "0.150", "B20250115-01"),
        card("line 3", JAN[15], "25.117", "OT3F2A9C1B7E02", "gw_000813", "25.500", "0.383", "B20250115-01"),
        card("line 4", JAN[15], "-5.000", "OT3F2A9C1B7D99", "gw_000814", "-5.000", "0.000", "B20250115-01", True),
        card("line 6", JAN[16], "98.500", "OT3F2A9C1B7E03", "gw_000815", "100.000", "1.500", "B20250116-01"),
        card("line 7", JAN[16], "0.492", "OT3F2A9C1B7E04", "gw_000816", "0.500", "0.008", "B20250116-01"),
    ]
    assert report.batches == (
        SettlementBatch("B20250115-01", JAN[16], D("30.500"), D("0.533"), D("29.967"), "GWPAYOUT-20250116-01", 3,
                        "line 5"),
        SettlementBatch("B20250116-01", JAN[17], D("100.500"), D("1.508"), D("98.992"), "GWPAYOUT-20250117-01", 2,
                        "line 8"),
    )  # fmt: skip
    assert report.trailer == StatementTrailer(D("128.959"), JAN[17], 5)


@pytest.mark.parametrize(
    ("old", "new", "position", "reason"),
    [
        pytest.param("TXN,B20250116-01,OT3F2A9C1B7E04", "FEE,B20250116-01,OT3F2A9C1B7E04", "line 7",
                     "unknown record_type 'FEE'", id="unknown-record-type"),
        pytest.param(",25.500,0.383,25.117,", ",25.500,0.383,25.118,", "line 3",
                     "net 25.118 is not gross 25.500 - fee 0.383 = 25.117", id="net-not-gross-minus-fee"),
        pytest.param(",0.500,0.008,0.492,", ",0.5001,0.008,0.4921,", "line 7",
                     "gross '0.5001' has more than 3 decimal places", id="four-decimals"),
        pytest.param(",0.500,0.008,0.492,", ",\"0,500\",0.008,0.492,", "line 7",
                     "gross '0,500' is not a plain decimal", id="decimal-comma"),
        pytest.param(",100.500,1.508,98.992,OMR", ",100.500,1.508,98.993,OMR", "line 8",
                     "net 98.993 is not gross 100.500 - fee 1.508", id="batch-row-itself-inconsistent"),
        pytest.param(",100.500,1.508,98.992,OMR", ",100.501,1.508,98.993,OMR", "line 8",
                     "BATCH B20250116-01 states gross 100.501, its 2 rows add up to 100.500", id="batch-total"),
        pytest.param("gw_000813,2025-01-15,25.500,0.383,25.117,OMR", "gw_000813,2025-01-15,25.500,0.383,25.117,USD",
                     "line 3", "currency USD where OMR is expected", id="foreign-currency"),
        pytest.param("BATCH,B20250116-01,GWPAYOUT-20250117-01,,2025-01-17,100.500,1.508,98.992,OMR\n", "", "line 7",
                     "no BATCH row pays out batch(es) B20250116-01", id="batch-never-paid"),
        pytest.param("TXN,B20250116-01,OT3F2A9C1B7E03", "TXN,B20250115-01,OT3F2A9C1B7E03", "line 6",
                     "batch B20250115-01 was already paid out at line 5", id="row-after-its-batch"),
        pytest.param("REFUND,B20250115-01,OT3F2A9C1B7D99,gw_000814,2025-01-15,-5.000,0.000,-5.000",
                     "REFUND,B20250115-01,OT3F2A9C1B7D99,gw_000814,2025-01-15,5.000,0.000,5.000", "line 4",
                     "a REFUND needs a negative gross", id="positive-refund"),
        pytest.param("gw_000812,2025-01-15,", "gw_000812,15/01/2025,", "line 2",
                     "transaction_date '15/01/2025' is not a date", id="bad-date"),
        pytest.param("record_type,batch_id", "type,batch_id", "line 1", "the header row must be", id="bad-header"),
        pytest.param("gw_000816,2025-01-16,0.500,0.008,0.492,OMR", "gw_000816,2025-01-16,0.500,0.008,0.492", "line 7",
                     "8 columns, expected 9", id="short-row"),
    ],
)  # fmt: skip
def test_gateway_csv_malformed_report_is_refused_naming_line_and_reason(old, new, position, reason):
    error = refusal("gateway_csv", replaced(fixture("gateway-omr.csv"), old, new))
    assert error.position == position
    assert reason in error.reason


def test_a_byte_that_is_not_utf8_is_refused_on_its_line():
    data = fixture("gateway-omr.csv").replace(b"OT3F2A9C1B7E02", b"OT3F2A9C1B7\xff02")
    error = refusal("gateway_csv", data)
    assert (error.position, error.reason) == ("line 3", "not UTF-8 text (invalid start byte)")
    data = fixture("mt940-omr.sta").replace(b"AHMED SAID", b"AHMED \xffSAID")
    error = refusal("mt940", data)
    assert (error.position, error.reason) == ("line 8", "not UTF-8 text")


def test_gateway_csv_with_only_a_header_is_refused():
    header = fixture("gateway-omr.csv").splitlines(keepends=True)[0]
    error = refusal("gateway_csv", header)
    assert error.reason == "the report holds no record (only a header)"


# -- the Statement protocol ---------------------------------------------------------------------------------
def test_lines_can_be_read_once_and_skipped_lines_are_still_checked():
    statements = read_statements("mt940", io.BytesIO(fixture("mt940-omr.sta")))
    first = next(statements)
    lines = first.lines()
    next(lines)
    with pytest.raises(RuntimeError, match="only once"):
        first.lines()
    second = next(statements)  # the rest of the first statement is read (and checked) on the way
    assert first.trailer.closing_balance == second.header.opening_balance == D("1364.250")
    with pytest.raises(RuntimeError, match="only after all"):
        second.trailer  # noqa: B018
    assert [x.amount for x in second.lines()] == [D("49.875"), D("-1.375")]

    broken = replaced(fixture("mt940-omr.sta"), ":62F:C250115OMR1364,250", ":62F:C250115OMR1364,255")
    statements = read_statements("mt940", io.BytesIO(broken))
    next(statements)  # its lines are never read by the caller...
    with pytest.raises(ParseError, match=r"^line 14: "):
        next(statements)  # ...but checked before the next statement is handed out


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown statement kind 'bai2'"):
        next(read_statements("bai2", io.BytesIO(b"")))


# -- the benchmark's generator and streaming ---------------------------------------------------------------
def test_bench_generator_writes_statements_the_parsers_read_back_line_for_line():
    out = io.BytesIO()
    closing = write_camt053(out, 2_500, sequence=7, opening=D("100.000"))
    [statement] = parse("camt053", out.getvalue())
    assert statement.header.sequence == 7
    assert [(x.reference, x.amount, x.bank_reference) for x in statement.lines] == [
        (reference_for(n), amount_for(n), bank_reference_for(n)) for n in range(1, 2_501)
    ]
    assert statement.trailer.closing_balance == closing == D("100.000") + sum(amount_for(n) for n in range(1, 2_501))

    out = io.BytesIO()
    write_gateway_csv(out, 2_500, batch_size=1_000)
    [report] = parse("gateway_csv", out.getvalue())
    assert [x.reference for x in report.lines] == [reference_for(n) for n in range(1, 2_501)]
    assert [x.gross for x in report.lines] == [amount_for(n) for n in range(1, 2_501)]
    assert [b.line_count for b in report.batches] == [1_000, 1_000, 500]
    assert sum(b.net for b in report.batches) == report.trailer.closing_balance


# Parsing runs in a child process and reports how far its peak resident memory rose: tracemalloc would see
# Python's allocations only and make the parse several times slower (each of ~20 million allocations traced).
MEASURE = """
import json, resource, sys, time
from pathlib import Path
from settlements.parsers import read_statements

def peak_bytes():
    # VmHWM is this process's own high-water mark; ru_maxrss survives exec on Linux (it would report pytest's).
    status = Path("/proc/self/status")
    if status.exists():
        return next(int(row.split()[1]) * 1024 for row in status.read_text().splitlines() if row.startswith("VmHWM"))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # macOS: bytes

kind, path = sys.argv[1:3]
before = peak_bytes()
started = time.perf_counter()
count = 0
with open(path, "rb") as stream:
    for statement in read_statements(kind, stream):
        for _ in statement.lines():
            count += 1
        closing = statement.trailer.closing_balance
usage = resource.getrusage(resource.RUSAGE_SELF)
peak = peak_bytes()
print(json.dumps({"lines": count, "closing": str(closing), "seconds": time.perf_counter() - started,
                  "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_mb": peak / 1e6,
                  "rise_mb": (peak - before) / 1e6}))
"""
STREAM_LINES = 200_000
MAX_RISE_MB = 50


def measure(kind: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, kind, str(path)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def report(kind: str, result: dict) -> None:
    """One line for ``pytest -s``: these machines are noisy, so CPU time says more than wall time."""
    print(
        f"\n{kind} {result['lines']} lines: {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} s CPU, "
        f"peak RSS {result['peak_mb']:.0f} MB (rise while parsing {result['rise_mb']:.1f} MB)"
    )


def write_lean_camt053(path: Path, lines: int) -> Decimal:
    """Entries with only what a booked credit needs: the test is about memory, not about rich entries (the
    generator's full entries are read back in ``test_bench_generator_writes_...``)."""
    total = sum(amount_for(n) for n in range(1, lines + 1))
    entry = (
        '<Ntry><Amt Ccy="OMR">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2025-01-15</Dt>'
        "</BookgDt><AcctSvcrRef>{}</AcctSvcrRef></Ntry>\n"
    )
    with path.open("wb") as out:
        out.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
            b'camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><Othr><Id>1</Id></Othr></Id></Acct>'
            b'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">0</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            b"<Dt><Dt>2025-01-14</Dt></Dt></Bal>"
            b'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            b"<Dt><Dt>2025-01-15</Dt></Dt></Bal>\n" % str(total).encode()
        )
        for start in range(1, lines + 1, 5_000):
            chunk = range(start, min(start + 5_000, lines + 1))
            out.write("".join(entry.format(amount_for(n), reference_for(n)) for n in chunk).encode())
        out.write(b"</Stmt></BkToCstmrStmt></Document>\n")
    return total


def test_camt053_of_200000_lines_streams_in_flat_memory(tmp_path):
    path = tmp_path / "camt053-200k.xml"
    total = write_lean_camt053(path, STREAM_LINES)
    assert path.stat().st_size > 30_000_000
    result = measure("camt053", path)
    report("camt053", result)
    assert result["lines"] == STREAM_LINES
    assert D(result["closing"]) == total
    assert result["rise_mb"] < MAX_RISE_MB


def write_lean_mt940(path: Path, lines: int) -> Decimal:
    """One statement of ``lines`` credits, each a :61: line and its :86: details, as the banks send them."""
    total = sum(amount_for(n) for n in range(1, lines + 1))

    def swift(amount: Decimal) -> str:
        return f"{amount:.3f}".replace(".", ",")

    with path.open("w") as out:
        out.write(":20:STMT200K\n:25:0312004567890011\n:28C:00001/1\n:60F:C250114OMR0,000\n")
        for start in range(1, lines + 1, 5_000):
            out.write(
                "".join(
                    f":61:2501150115C{swift(amount_for(n))}NTRF{reference_for(n)}//{bank_reference_for(n)}\n"
                    f":86:e-Rial top-up {reference_for(n)}\n"
                    for n in range(start, min(start + 5_000, lines + 1))
                )
            )
        out.write(f":62F:C250115OMR{swift(total)}\n-\n")
    return total


def test_mt940_of_200000_lines_streams_in_flat_memory(tmp_path):
    path = tmp_path / "mt940-200k.sta"
    total = write_lean_mt940(path, STREAM_LINES)
    assert path.stat().st_size > 15_000_000
    result = measure("mt940", path)
    report("mt940", result)
    assert result["lines"] == STREAM_LINES
    assert D(result["closing"]) == total
    assert result["rise_mb"] < MAX_RISE_MB


def test_gateway_csv_of_200000_lines_streams_in_flat_memory(tmp_path):
    path = tmp_path / "gateway-200k.csv"
    with path.open("wb") as out:
        write_gateway_csv(out, STREAM_LINES, batch_size=2_000)
    result = measure("gateway_csv", path)
    report("gateway_csv", result)
    assert result["lines"] == STREAM_LINES
    assert result["rise_mb"] < MAX_RISE_MB
