"""Statement files written by tests, in the shapes the partners send (camt.053 and the gateway CSV)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

CAMT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>{day}T23:05:00+04:00</CreDtTm></GrpHdr>
<Stmt><Id>{msg}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>{day}T23:05:00+04:00</CreDtTm>
<Acct><Id><Othr><Id>0312004567890011</Id></Othr></Id><Ccy>OMR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{day}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{day}</Dt></Dt></Bal>
"""
CAMT_ENTRY = """<Ntry><Amt Ccy="OMR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>BK{n:06d}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs><RmtInf><Ustrd>{reference}</Ustrd></RmtInf>
</TxDtls></NtryDtls></Ntry>
"""


def camt053(
    path: Path, day: dt.date, credits: list[tuple[str, Decimal]], *, sequence: int, opening: Decimal = Decimal("0.000")
) -> Path:
    closing = opening + sum((amount for _, amount in credits), Decimal("0.000"))
    with path.open("w") as out:
        out.write(
            CAMT_HEAD.format(msg=f"STMT-{day}-{sequence}", day=day, seq=sequence, opening=opening, closing=closing)
        )
        for n, (reference, amount) in enumerate(credits, 1):
            out.write(CAMT_ENTRY.format(amount=amount, day=day, n=n, reference=reference))
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return path


def gateway_csv(
    path: Path, day: dt.date, batch_id: str, payout_reference: str, transactions: list[tuple[str, Decimal, Decimal]]
) -> Path:
    """One batch: (reference, gross, fee) per card transaction, then the BATCH line with the net paid."""
    lines = ["record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency"]
    gross_total = fee_total = Decimal("0.000")
    for n, (reference, gross, fee) in enumerate(transactions, 1):
        lines.append(f"TXN,{batch_id},{reference},gw_{n:06d},{day},{gross},{fee},{gross - fee},OMR")
        gross_total, fee_total = gross_total + gross, fee_total + fee
    lines.append(f"BATCH,{batch_id},{payout_reference},,{day},{gross_total},{fee_total},{gross_total - fee_total},OMR")
    path.write_text("\n".join(lines) + "\n")
    return path
