"""Write large, valid OMR statement files for the import benchmark and the parsers' streaming tests.

Every line's amount and reference are functions of its number (``amount_text(n)``, ``reference_for(n)``,
``bank_reference_for(n)``), so a benchmark can create the matching ledger entries (top-ups with those
references and amounts) without reading the file back. Files are written as they are made (a block of
lines at a time), so 1,000,000 lines take seconds and little memory.

    .venv/bin/python bench/make_statements.py --lines 1000000 --out var/bench/camt053-1m.xml
    .venv/bin/python bench/make_statements.py --lines 1000000 --format gateway_csv --out var/bench/gw-1m.csv

camt.053: one statement (``camt.053.001.08``) of ``--lines`` booked credit entries on a plain account number,
each a top-up with ``EndToEndId`` = ``reference_for(n)``; its opening balance is ``--opening``, its closing
balance the opening plus every entry, its ``ElctrncSeqNb`` is ``--sequence``. Gateway CSV: ``--lines`` card
payments (``TXN``) in batches of ``--batch-size``, each batch closed by its ``BATCH`` payout row; the gateway
fee is 1.5 % of the gross, in whole baisa rounded down.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

ACCOUNT = "0312004567890011"
BLOCK = 2000  # lines formatted per write
FEE_PER_MILLE = 15


def reference_for(n: int) -> str:
    """Our reference of line ``n`` (1-based), shaped like the top-ups' (``OT`` + 12 hex digits)."""
    return f"OT{n:012X}"


def bank_reference_for(n: int) -> str:
    """The bank's (or gateway's) own reference of line ``n``."""
    return f"BNK{n:013d}"


def amount_baisa(n: int) -> int:
    """Line ``n``'s amount in baisa: 1.000 to 500.999 OMR, every baisa digit used."""
    return (1 + n % 500) * 1000 + (n * 7919) % 1000


def amount_text(n: int) -> str:
    """Line ``n``'s amount as the file writes it (``"12.345"``)."""
    return _baisa_text(amount_baisa(n))


def amount_for(n: int) -> Decimal:
    """Line ``n``'s amount as the parser returns it."""
    return Decimal(amount_text(n))


def fee_baisa(gross: int) -> int:
    """The gateway's fee on a gross amount in baisa (1.5 %, rounded down to the baisa)."""
    return gross * FEE_PER_MILLE // 1000


def _baisa_text(baisa: int) -> str:
    sign = "-" if baisa < 0 else ""
    whole, fraction = divmod(abs(baisa), 1000)
    return f"{sign}{whole}.{fraction:03d}"


def write_camt053(
    out: BinaryIO, lines: int, *, sequence: int = 1, opening: Decimal = Decimal("0.000"), day: date | None = None
) -> Decimal:
    """Write a one-statement camt.053 of ``lines`` credit entries; returns its closing balance."""
    day_text = (day or date(2025, 1, 15)).isoformat()
    opening_baisa = int(opening * 1000)
    closing_baisa = opening_baisa + sum(amount_baisa(n) for n in range(1, lines + 1))
    out.write(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n<BkToCstmrStmt>\n'
            f"<GrpHdr><MsgId>BENCH-{sequence}</MsgId><CreDtTm>{day_text}T23:00:00+04:00</CreDtTm></GrpHdr>\n"
            f"<Stmt><Id>BENCH-{ACCOUNT}-{sequence}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb>\n"
            f"<Acct><Id><Othr><Id>{ACCOUNT}</Id></Othr></Id><Ccy>OMR</Ccy></Acct>\n"
            f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">{_baisa_text(abs(opening_baisa))}</Amt>'
            f"<CdtDbtInd>{'DBIT' if opening_baisa < 0 else 'CRDT'}</CdtDbtInd><Dt><Dt>{day_text}</Dt></Dt></Bal>\n"
            f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">{_baisa_text(abs(closing_baisa))}</Amt>'
            f"<CdtDbtInd>{'DBIT' if closing_baisa < 0 else 'CRDT'}</CdtDbtInd><Dt><Dt>{day_text}</Dt></Dt></Bal>\n"
        ).encode()
    )
    entry = (
        '<Ntry><Amt Ccy="OMR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{day_text}</Dt></BookgDt><ValDt><Dt>{day_text}</Dt></ValDt>"
        "<AcctSvcrRef>{bank}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        "<NtryDtls><TxDtls><Refs><EndToEndId>{ref}</EndToEndId></Refs>"
        "<RmtInf><Ustrd>e-Rial top-up {ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )
    for start in range(1, lines + 1, BLOCK):
        block = range(start, min(start + BLOCK, lines + 1))
        out.write(
            "".join(
                entry.format(amount=amount_text(n), bank=bank_reference_for(n), ref=reference_for(n)) for n in block
            ).encode()
        )
    out.write(b"</Stmt>\n</BkToCstmrStmt>\n</Document>\n")
    return Decimal(closing_baisa) / 1000


def gateway_rows(lines: int, batch_size: int, day: date) -> Iterator[str]:
    """The CSV rows (header first) of ``lines`` card payments in batches of ``batch_size``."""
    yield "record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency\n"
    day_text = day.isoformat()
    for batch_start in range(1, lines + 1, batch_size):
        batch_id = f"B{day:%Y%m%d}-{batch_start // batch_size + 1:05d}"
        gross_total = fee_total = 0
        for n in range(batch_start, min(batch_start + batch_size, lines + 1)):
            gross = amount_baisa(n)
            fee = fee_baisa(gross)
            gross_total += gross
            fee_total += fee
            yield (
                f"TXN,{batch_id},{reference_for(n)},{bank_reference_for(n)},{day_text},"
                f"{_baisa_text(gross)},{_baisa_text(fee)},{_baisa_text(gross - fee)},OMR\n"
            )
        yield (
            f"BATCH,{batch_id},PAYOUT-{batch_id},,{day_text},"
            f"{_baisa_text(gross_total)},{_baisa_text(fee_total)},{_baisa_text(gross_total - fee_total)},OMR\n"
        )


def write_gateway_csv(out: BinaryIO, lines: int, *, batch_size: int = 1000, day: date | None = None) -> None:
    """Write a gateway settlement CSV of ``lines`` card payments."""
    rows = gateway_rows(lines, batch_size, day or date(2025, 1, 15))
    block: list[str] = []
    for row in rows:
        block.append(row)
        if len(block) == BLOCK:
            out.write("".join(block).encode())
            block.clear()
    out.write("".join(block).encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="statement lines to write")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    parser.add_argument("--format", choices=("camt053", "gateway_csv"), default="camt053")
    parser.add_argument("--sequence", type=int, default=1, help="camt.053 ElctrncSeqNb")
    parser.add_argument("--opening", type=Decimal, default=Decimal("0.000"), help="camt.053 opening balance")
    parser.add_argument("--batch-size", type=int, default=1000, help="gateway CSV lines per payout batch")
    parser.add_argument("--date", type=date.fromisoformat, default=date(2025, 1, 15), help="booking date")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with args.out.open("wb", buffering=1 << 20) as out:
        if args.format == "camt053":
            write_camt053(out, args.lines, sequence=args.sequence, opening=args.opening, day=args.date)
        else:
            write_gateway_csv(out, args.lines, batch_size=args.batch_size, day=args.date)
    elapsed = time.perf_counter() - started
    print(f"lines: {args.lines}")
    print(f"bytes: {args.out.stat().st_size}")
    print(f"seconds: {elapsed:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
