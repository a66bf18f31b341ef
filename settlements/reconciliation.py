"""The reconciliation of one business day for one source: match, settle, and explain the rest.

Three legs (issue 5):
- gateway transactions <-> ledger card top-ups, one to one on our reference and the gross amount;
- a gateway batch <-> the bank credit that paid it (batch id and net = gross - fees - refunds), then one
  settlement entry per batch: bank (net) + gateway fee expense -> gateway clearing (gross);
- bank lines <-> ledger bank top-ups and agent float deposits: on the reference, else on the amount within
  a few days when exactly one entry fits; bank top-ups are then settled (bank -> bank clearing) in one entry.

Exact matches are set-based SQL (a million lines take seconds). Several candidates are never confirmed
automatically: they become an exception with suggestions for a person. Re-running a day changes
nothing already matched or settled: it only picks up what is still open.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from ledger import services as ledger
from ledger.chart import SystemAccount
from ledger.models import Entry, EntryKind, Posting
from ledger.payments import system_account, system_account_id

from .models import (
    ExceptionKind,
    ExceptionStatus,
    GatewayBatch,
    LineStatus,
    ReconciliationRun,
    ReconException,
    RunStatus,
    Source,
    StatementLine,
)

ZERO = Decimal("0.000")
#: How many days before a bank line's booking date a ledger entry may be and still match it by amount.
AMOUNT_WINDOW_DAYS = 2


def reconcile_day(*, day: dt.date, source: Source | str) -> ReconciliationRun:
    """Reconcile ``day`` for ``source`` (run the gateway before the bank: bank credits of gateway batches are
    matched by the gateway run). Safe to run again.
    """
    source = Source(source)
    with transaction.atomic():
        run, created = ReconciliationRun.objects.select_for_update().get_or_create(
            business_day=day, source=source, defaults={"started_at": timezone.now()}
        )
        if not created:
            run.rerun()
            run.attempts += 1
            run.started_at, run.finished_at, run.error = timezone.now(), None, ""
        run.save()
    try:
        with transaction.atomic():
            locked = ReconciliationRun.objects.select_for_update().get(pk=run.pk)  # one run of a day at a time
            matched, settled = (_gateway if source == Source.GATEWAY else _bank)(day, locked)
            _close_explained_exceptions()
            locked.matched += matched
            locked.settled_amount += settled
            locked.open_exceptions = ReconException.objects.filter(
                source=source, business_day=day, status__in=[ExceptionStatus.OPEN, ExceptionStatus.PROPOSED]
            ).count()
            locked.finished_at = timezone.now()
            locked.complete()
            locked.save()
            return locked
    except Exception as failure:
        failed = ReconciliationRun.objects.get(pk=run.pk)
        if failed.status == RunStatus.RUNNING:
            failed.fail()
            failed.error = f"{type(failure).__name__}: {failure}"[:2000]
            failed.finished_at = timezone.now()
            failed.save()
        raise


# --- bank -------------------------------------------------------------------------------------------


def _bank(day: dt.date, run: ReconciliationRun) -> tuple[int, Decimal]:
    bank, clearing = system_account_id(SystemAccount.BANK), system_account_id(SystemAccount.BANK_CLEARING)
    matched = _match_on_reference(
        day,
        Source.BANK,
        kinds=(EntryKind.ONLINE_TOPUP, EntryKind.FLOAT_DEPOSIT),
        accounts=(bank, clearing),
        amount_column="amount",
    )
    matched += _match_on_amount(day, accounts=(bank, clearing))
    settled = _settle_bank_topups(day, run, clearing)
    _explain_bank_lines(day)
    _flag_missing_entries(day, Source.BANK, EntryKind.ONLINE_TOPUP, clearing)
    _flag_missing_entries(day, Source.BANK, EntryKind.FLOAT_DEPOSIT, bank)
    return matched, settled


def _match_on_reference(
    day: dt.date, source: Source, *, kinds: tuple[str, ...], accounts: tuple[int, ...], amount_column: str
) -> int:
    """One SQL statement: lines of the day whose reference names exactly one unmatched entry of the right kind
    with the same amount on the clearing (or bank) account. A reference on two lines matches neither.
    """
    kind_marks = ", ".join(["%s"] * len(kinds))
    account_marks = ", ".join(["%s"] * len(accounts))
    sql = f"""
        UPDATE settlements_statementline AS l SET status = %s, matched_entry_id = e.id
        FROM ledger_entry AS e JOIN ledger_posting AS p ON p.entry_id = e.id
        WHERE l.source = %s AND l.booking_date = %s AND l.status = %s AND l.reference <> ''
          AND e.reference = l.reference AND e.kind IN ({kind_marks})
          AND p.account_id IN ({account_marks}) AND p.amount = l.{amount_column}
          AND NOT EXISTS (SELECT 1 FROM settlements_statementline AS d
                          WHERE d.reference = l.reference AND d.source = l.source AND d.id <> l.id
                            AND d.status <> %s)
          AND NOT EXISTS (SELECT 1 FROM settlements_statementline AS m WHERE m.matched_entry_id = e.id)
    """
    params = [
        LineStatus.MATCHED,
        source,
        connection.ops.adapt_datefield_value(day),
        LineStatus.UNMATCHED,
        *kinds,
        *accounts,
        LineStatus.EXCEPTION,
    ]
    if source == Source.BANK:  # bank credits of gateway batches belong to the gateway leg
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM settlements_gatewaybatch AS b"
            " WHERE l.reference IN (b.batch_id, b.payout_reference))"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _candidates(line: StatementLine, accounts: tuple[int, ...]) -> list[Entry]:
    since = line.booking_date - dt.timedelta(days=AMOUNT_WINDOW_DAYS)
    taken = StatementLine.objects.filter(matched_entry__isnull=False).values("matched_entry_id")
    postings = Posting.objects.filter(
        account_id__in=accounts,
        amount=line.amount,
        entry__kind__in=[EntryKind.ONLINE_TOPUP, EntryKind.FLOAT_DEPOSIT],
        entry__business_day__gte=since,
        entry__business_day__lte=line.booking_date,
    ).exclude(entry_id__in=taken)
    return list(Entry.objects.filter(pk__in=postings.values("entry_id")).order_by("created_at")[:10])


def _match_on_amount(day: dt.date, *, accounts: tuple[int, ...]) -> int:
    """Lines the reference did not place: matched on amount and date only when exactly one entry fits."""
    matched = 0
    open_lines = StatementLine.objects.filter(
        source=Source.BANK, booking_date=day, status=LineStatus.UNMATCHED, amount__gt=0
    ).exclude(reference__in=_batch_references())
    for line in open_lines.order_by("id").iterator():
        found = _candidates(line, accounts)
        if len(found) == 1 and not _reference_points_elsewhere(line):
            line.status, line.matched_entry = LineStatus.MATCHED, found[0]
            line.save(update_fields=["status", "matched_entry"])
            matched += 1
        elif len(found) > 1:
            _open_exception(
                ExceptionKind.AMBIGUOUS_LINE,
                line=line,
                detail=f"{len(found)} ledger entries of {line.amount} OMR fit this line: confirm the right one.",
                suggestions=[str(entry.pk) for entry in found],
            )
    return matched


def _batch_references() -> list[str]:
    """References bank credits of gateway batches carry: those lines belong to the gateway leg."""
    pairs = GatewayBatch.objects.values_list("batch_id", "payout_reference")
    return [ref for pair in pairs for ref in pair if ref]


def _reference_points_elsewhere(line: StatementLine) -> bool:
    return bool(line.reference) and Entry.objects.filter(reference=line.reference).exists()


def _settle_bank_topups(day: dt.date, run: ReconciliationRun, clearing: int) -> Decimal:
    """Matched bank top-ups leave bank clearing for the bank: one settlement entry for the day's new matches."""
    lines = StatementLine.objects.filter(
        source=Source.BANK,
        booking_date=day,
        status=LineStatus.MATCHED,
        settled_entry__isnull=True,
        matched_entry__kind=EntryKind.ONLINE_TOPUP,
    )
    total = lines.aggregate(total=Sum("amount"))["total"] or ZERO
    if not total:
        return ZERO
    entry = ledger.post(
        kind=EntryKind.SETTLEMENT,
        legs=[
            ledger.Leg(system_account(SystemAccount.BANK), total),
            ledger.Leg(system_account(SystemAccount.BANK_CLEARING), -total),
        ],
        idempotency_key=f"settle:bank:{day}:{run.attempts}",
        scope="settlements",
        reference=f"BANK-{day}",
        memo=f"Bank statement {day}: online top-ups settled",
        metadata={"business_day": str(day)},
    )
    lines.update(settled_entry=entry)
    return total


def _explain_bank_lines(day: dt.date) -> None:
    """Every bank line still open becomes an exception (unless it pays a gateway batch: the gateway's)."""
    for line in (
        StatementLine.objects.filter(source=Source.BANK, booking_date=day, status=LineStatus.UNMATCHED)
        .exclude(reference__in=_batch_references())
        .iterator()
    ):
        same_reference = Entry.objects.filter(reference=line.reference).first() if line.reference else None
        if same_reference is not None:
            _open_exception(
                ExceptionKind.AMOUNT_MISMATCH,
                line=line,
                detail=f"Reference {line.reference} is in the ledger with another amount.",
                suggestions=[str(same_reference.pk)],
            )
        elif not line.exceptions.exists():
            what = "credit" if line.amount > 0 else "debit"
            _open_exception(
                ExceptionKind.UNMATCHED_LINE,
                line=line,
                detail=f"Bank {what} of {abs(line.amount)} OMR ({line.description or line.reference}) "
                "is not in the ledger.",
            )


# --- gateway ----------------------------------------------------------------------------------------


def _gateway(day: dt.date, run: ReconciliationRun) -> tuple[int, Decimal]:
    clearing = system_account_id(SystemAccount.GATEWAY_CLEARING)
    matched = _match_on_reference(
        day, Source.GATEWAY, kinds=(EntryKind.ONLINE_TOPUP,), accounts=(clearing,), amount_column="gross"
    )
    settled = ZERO
    for batch in GatewayBatch.objects.filter(settlement_entry__isnull=True, batch_date__lte=day).order_by("batch_date"):
        settled += _settle_batch(batch, run)
    for line in StatementLine.objects.filter(source=Source.GATEWAY, booking_date=day, status=LineStatus.UNMATCHED):
        if not line.exceptions.exists():
            _open_exception(
                ExceptionKind.UNMATCHED_LINE,
                line=line,
                detail=f"Gateway transaction {line.reference} ({line.gross} OMR) is not in the ledger.",
            )
    _flag_missing_entries(day, Source.GATEWAY, EntryKind.ONLINE_TOPUP, clearing)
    return matched, settled


def _settle_batch(batch: GatewayBatch, run: ReconciliationRun) -> Decimal:
    lines = StatementLine.objects.filter(source=Source.GATEWAY, batch_id=batch.batch_id)
    if lines.exclude(status__in=[LineStatus.MATCHED, LineStatus.RESOLVED]).exists():
        return ZERO  # its transactions are not all accounted for yet: their exceptions say why
    references = [ref for ref in (batch.batch_id, batch.payout_reference) if ref]
    credit = StatementLine.objects.filter(
        source=Source.BANK, reference__in=references, status=LineStatus.UNMATCHED
    ).first()
    if credit is None:
        grace = dt.timedelta(days=settings.ERIAL_BATCH_PAYOUT_DAYS)
        if run.business_day - batch.batch_date > grace:
            _open_exception(
                ExceptionKind.BATCH_MISMATCH,
                batch=batch,
                amount=batch.net,
                detail=f"Gateway batch {batch.batch_id} ({batch.net} OMR net) was not paid into the bank.",
            )
        return ZERO
    if credit.amount != batch.net:
        _open_exception(
            ExceptionKind.BATCH_MISMATCH,
            line=credit,
            batch=batch,
            detail=f"The bank received {credit.amount} OMR for batch {batch.batch_id}, "
            f"the gateway reported {batch.net} OMR net.",
        )
        return ZERO
    legs = [
        ledger.Leg(system_account(SystemAccount.BANK), batch.net),
        ledger.Leg(system_account(SystemAccount.GATEWAY_CLEARING), -batch.gross),
    ]
    if batch.fee:
        legs.append(ledger.Leg(system_account(SystemAccount.GATEWAY_FEE_EXPENSE), batch.fee))
    entry = ledger.post(
        kind=EntryKind.SETTLEMENT,
        legs=legs,
        idempotency_key=f"settle:batch:{batch.batch_id}",
        scope="settlements",
        reference=batch.batch_id,
        memo=f"Card gateway batch {batch.batch_id} paid",
        metadata={"batch": batch.batch_id},
    )
    batch.settlement_entry, batch.bank_line = entry, credit
    batch.save(update_fields=["settlement_entry", "bank_line"])
    credit.status, credit.matched_entry, credit.settled_entry = LineStatus.MATCHED, entry, entry
    credit.save(update_fields=["status", "matched_entry", "settled_entry"])
    lines.update(settled_entry=entry)
    return batch.net


# --- both -------------------------------------------------------------------------------------------


def _flag_missing_entries(day: dt.date, source: Source, kind: str, account: int) -> None:
    """Ledger entries of the day that no statement line accounts for (after the grace for late bookings)."""
    through = day - dt.timedelta(days=settings.ERIAL_RECONCILIATION_GRACE_DAYS)
    matched = StatementLine.objects.filter(matched_entry__isnull=False).values("matched_entry_id")
    flagged = ReconException.objects.filter(kind=ExceptionKind.MISSING_FROM_STATEMENT).values("entry_id")
    postings = (
        Posting.objects.filter(account_id=account, amount__gt=0, entry__kind=kind, entry__business_day=through)
        .exclude(entry_id__in=matched)
        .exclude(entry_id__in=flagged)
        .select_related("entry")
    )
    for posting in postings.iterator():
        _open_exception(
            ExceptionKind.MISSING_FROM_STATEMENT,
            entry=posting.entry,
            amount=posting.amount.amount,
            source=source,
            business_day=day,
            detail=f"{posting.entry.get_kind_display()} {posting.entry.reference} is in the ledger but "
            f"on no {source} statement.",
        )


def _open_exception(
    kind: ExceptionKind,
    *,
    detail: str,
    line: StatementLine | None = None,
    entry: Entry | None = None,
    batch: GatewayBatch | None = None,
    amount: Decimal | None = None,
    source: str | None = None,
    business_day: dt.date | None = None,
    suggestions: list[str] | None = None,
) -> ReconException:
    """Record an exception once (a re-run finds the same one, not a second)."""
    lookup = {"kind": kind, "line": line} if line is not None else {"kind": kind, "entry": entry, "batch": batch}
    exception, _created = ReconException.objects.get_or_create(
        **lookup,
        defaults={
            "source": source or (line.source if line else Source.GATEWAY),
            "detail": detail[:500],
            "business_day": business_day or (line.booking_date if line else timezone.localdate()),
            "amount": amount if amount is not None else (line.amount if line else ZERO),
            "entry": entry,
            "batch": batch,
            "suggestions": suggestions or [],
        },
    )
    if line is not None and line.status == LineStatus.UNMATCHED:
        line.status = LineStatus.EXCEPTION
        line.save(update_fields=["status"])
    return exception


def _close_explained_exceptions() -> None:
    """Exceptions about an entry that a statement line now accounts for are explained: resolved."""
    matched = StatementLine.objects.filter(matched_entry__isnull=False).values("matched_entry_id")
    ReconException.objects.filter(
        kind=ExceptionKind.MISSING_FROM_STATEMENT, status=ExceptionStatus.OPEN, entry_id__in=matched
    ).update(status=ExceptionStatus.RESOLVED, resolved_at=timezone.now())
