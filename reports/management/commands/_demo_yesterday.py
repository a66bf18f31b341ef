"""Yesterday's demo business for ``seed_demo``: online top-ups, a fee payment, the night's reconciliation, the seal.

The finance screens look at finished days (the reconciliation of a day, the exceptions queue, the trial balance
from the day seals), so the demo needs a yesterday. Entries are append-only and stamped by the application's
clock (``timezone.now``, which ``post()`` hands to the database too), so yesterday's business is booked by
setting that clock back while it is made, as the tests do. It touches only a wallet of its own and accounts that
keep no cached balance, so its entries fall on yesterday even when today's demo entries already exist; and it
runs only while yesterday is unsealed, because a day once sealed never takes another entry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.contrib.auth.models import AbstractBaseUser

from ledger import payments
from ledger.businessday import business_zone, today
from ledger.models import DaySeal, Holder, Service, Wallet
from settlements import services as settlements
from settlements.importing import import_file
from settlements.models import ReconException, Source, Statement
from settlements.reconciliation import reconcile_day
from topups import services as topups
from topups.channels import channel as partner_channel
from topups.models import OnlineTopup
from topups.signing import signature_header

#: The demo customer whose business is all yesterday's; the story is done once this holder exists.
HOLDER_ID = "23456789"
#: The municipality's account at the partner bank, as the bank's statements name it.
BANK_ACCOUNT = "0312004567890011"
#: A bank credit nobody has claimed: it stays an open exception in the queue.
UNKNOWN_CREDIT = (Decimal("12.000"), "Cash deposit at branch, depositor not given")
#: A second one, which finance has proposed to write off to suspense: a second finance user approves or rejects.
PROPOSED_CREDIT = (Decimal("3.500"), "Transfer, sender not identified")
CARD_FEE = Decimal("0.500")


def yesterday() -> dt.date:
    return today() - dt.timedelta(days=1)


def done() -> bool:
    return Holder.objects.filter(national_id=HOLDER_ID).exists()


def blocked() -> bool:
    """Yesterday is sealed already (an older demo database): nothing may be booked on it any more."""
    return DaySeal.objects.filter(business_day__gte=yesterday()).exists()


@contextlib.contextmanager
def clock_at(day: dt.date, hour: int, minute: int = 0) -> Iterator[None]:
    """Every ``timezone.now()`` answers ``hour:minute`` of ``day`` in Muscat while the block runs."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=business_zone())
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def book(*, open_wallet, finance: AbstractBaseUser, scope: str) -> dict[str, object]:
    """Book yesterday, reconcile it from the partners' statement files, and return what finance will see."""
    day = yesterday()
    services = {s.code: s for s in Service.objects.all()}
    with clock_at(day, 8, 30):
        salim = open_wallet(HOLDER_ID, "individual", "Salim Al-Hinai", "سالم الهنائي", "92345678")
    with clock_at(day, 9, 10):
        by_bank = _paid_online(salim, Decimal("40.000"), "bank")
    with clock_at(day, 9, 40):
        by_card = _paid_online(salim, Decimal("25.000"), "card")
    with clock_at(day, 11, 5):
        payments.pay_fee(
            wallet=salim,
            service=services["parking_permit"],
            bill_reference="PP-2291",
            amount=Decimal("8.000"),
            actor=salim.holder.user,
            idempotency_key="yesterday-pay-1",
            scope=scope,
        )
    batch_id, payout = f"GWB-{day:%Y%m%d}", f"GWPAY-{day:%Y%m%d}"
    with tempfile.TemporaryDirectory(prefix="erial-demo-") as folder:
        gateway = _gateway_csv(Path(folder) / f"gateway-{day}.csv", day, batch_id, payout, [by_card])
        bank = _camt053(
            Path(folder) / f"camt053-{day}.xml",
            day,
            [
                (by_bank.reference, by_bank.amount, f"Online top-up {by_bank.reference}"),
                (payout, by_card.amount - CARD_FEE, f"Card gateway payout {batch_id}"),
                ("", *UNKNOWN_CREDIT),
                ("", *PROPOSED_CREDIT),
            ],
        )
        import_file(gateway, source=Source.GATEWAY, actor=finance)
        import_file(bank, source=Source.BANK, actor=finance)
    runs = [reconcile_day(day=day, source=source) for source in (Source.GATEWAY, Source.BANK)]
    proposed = ReconException.objects.get(business_day=day, line__amount=PROPOSED_CREDIT[0])
    settlements.propose(
        exception=proposed, action="write_off", actor=finance, note="No claim after two days: hold in suspense."
    )
    return {"day": day, "runs": runs}


def _paid_online(wallet: Wallet, amount: Decimal, channel: str) -> OnlineTopup:
    """Initiated by the customer, then authorised by the partner's signed callback (the simulators' message,
    handed to the callback service directly instead of over HTTP)."""
    topup = topups.initiate(wallet=wallet, amount=amount, channel=channel, actor=wallet.holder.user)
    body = json.dumps(
        {
            "reference": topup.reference,
            "status": "authorised",
            "amount": f"{amount:.3f}",
            "currency": "OMR",
            "partner_txn_id": f"{channel.upper()}-{topup.reference}",
            "nonce": f"demo-{topup.reference}",
        }
    ).encode()
    signature = signature_header(body, partner_channel(channel).secret)
    return topups.handle_callback(channel=channel, body=body, signature_header=signature)


def _gateway_csv(path: Path, day: dt.date, batch_id: str, payout: str, paid: list[OnlineTopup]) -> Path:
    """The gateway's settlement report: one TXN line per card top-up, then the batch paid out net of fees."""
    lines = ["record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency"]
    for topup in paid:
        net = topup.amount - CARD_FEE
        lines.append(
            f"TXN,{batch_id},{topup.reference},{topup.partner_txn_id},{day},{topup.amount},{CARD_FEE},{net},OMR"
        )
    gross = sum((topup.amount for topup in paid), Decimal("0.000"))
    fees = CARD_FEE * len(paid)
    lines.append(f"BATCH,{batch_id},{payout},,{day},{gross},{fees},{gross - fees},OMR")
    path.write_text("\n".join(lines) + "\n")
    return path


CAMT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>{msg}</MsgId><CreDtTm>{day}T23:05:00+04:00</CreDtTm></GrpHdr>
<Stmt><Id>{msg}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>{day}T23:05:00+04:00</CreDtTm>
<Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>OMR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">0.000</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{day}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<Dt><Dt>{day}</Dt></Dt></Bal>
"""
CAMT_ENTRY = """<Ntry><Amt Ccy="OMR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>DEMO{day:%Y%m%d}{n:03d}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>{reference}</EndToEndId></Refs><RmtInf><Ustrd>{text}</Ustrd></RmtInf>
</TxDtls></NtryDtls></Ntry>
"""


def _camt053(path: Path, day: dt.date, credits: list[tuple[str, Decimal, str]]) -> Path:
    """The bank's end-of-day statement (camt.053) of credits (reference or none, amount, text), next in sequence."""
    last = (
        Statement.objects.filter(source=Source.BANK, account=BANK_ACCOUNT, sequence__isnull=False)
        .order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    sequence = (last or 0) + 1
    closing = sum((amount for _, amount, _ in credits), Decimal("0.000"))
    parts = [
        CAMT_HEAD.format(msg=f"DEMO-{day}-{sequence}", day=day, seq=sequence, account=BANK_ACCOUNT, closing=closing)
    ]
    for n, (reference, amount, text) in enumerate(credits, 1):
        parts.append(CAMT_ENTRY.format(amount=amount, day=day, n=n, reference=reference or "NOTPROVIDED", text=text))
    parts.append("</Stmt></BkToCstmrStmt></Document>\n")
    path.write_text("".join(parts), encoding="utf-8")
    return path
