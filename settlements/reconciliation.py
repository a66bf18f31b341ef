"""The reconciliation of one business day for one source: match, settle, and explain the rest.

Three legs (issue 5):
- gateway transactions <-> ledger card top-ups, one to one on our reference and the gross amount;
- a gateway batch <-> the bank credit that paid it (batch id and net = gross - fees - refunds), then one
  settlement entry per batch: bank (net) + gateway fee expense -> gateway clearing (gross);
- bank lines <-> ledger bank top-ups and agent float deposits: on the reference, else on the amount within
  a few days when exactly one entry fits; bank top-ups are then settled (bank -> bank clearing) in one entry.

Reference matches are found as a set (``matching``: one join, however many lines), the settlements that
depend on them are posted, and then each line is written once with its match and its settlement. The few
lines left are matched on the amount one by one. Several candidates are never confirmed
automatically: they become an exception with suggestions for a person. Re-running a day changes
nothing already matched or settled: it only picks up what is still open.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery, Sum
from django.utils import timezone

from ledger import services as ledger
from ledger.businessday import day_bounds
from ledger.chart import SystemAccount
from ledger.models import Entry, EntryKind, Posting
from ledger.payments import system_account, system_account_id

from . import matching
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
    matched = matching.find_reference_matches(
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


def _candidates(line: StatementLine, accounts: tuple[int, ...]) -> list[Entry]:
    since = line.booking_date - dt.timedelta(days=AMOUNT_WINDOW_DAYS)
    postings = Posting.objects.filter(
        ~Exists(StatementLine.objects.filter(matched_entry_id=OuterRef("entry_id"))),
        account_id__in=accounts,
        amount=line.amount,
        entry__kind__in=[EntryKind.ONLINE_TOPUP, EntryKind.FLOAT_DEPOSIT],
        entry__business_day__gte=since,
        entry__business_day__lte=line.booking_date,
    )
    entries = matching.entry_not_pending(Entry.objects.filter(pk__in=postings.values("entry_id")))
    return list(entries.order_by("created_at")[:10])


def _match_on_amount(day: dt.date, *, accounts: tuple[int, ...]) -> int:
    """Lines the reference did not place: matched on amount and date only when exactly one entry fits."""
    matched = 0
    open_lines = matching.line_not_pending(
        StatementLine.objects.filter(
            source=Source.BANK, booking_date=day, status=LineStatus.UNMATCHED, amount__gt=0
        ).exclude(reference__in=_batch_references())
    )
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
    """Matched bank top-ups leave bank clearing for the bank: one settlement entry for the day's new matches
    (the pending reference matches and the lines matched otherwise), then the pending matches are written.
    """
    lines = StatementLine.objects.filter(
        source=Source.BANK,
        booking_date=day,
        status=LineStatus.MATCHED,
        settled_entry__isnull=True,
        matched_entry__kind=EntryKind.ONLINE_TOPUP,
    )
    total = (lines.aggregate(total=Sum("amount"))["total"] or ZERO) + matching.pending_total(EntryKind.ONLINE_TOPUP)
    if not total:
        matching.write_matches()
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
    matching.write_matches(settlement_for_kind=(EntryKind.ONLINE_TOPUP, entry.pk))
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
    matched = matching.find_reference_matches(
        day, Source.GATEWAY, kinds=(EntryKind.ONLINE_TOPUP,), accounts=(clearing,), amount_column="gross"
    )
    settled = _settle_batches(day, run)
    matching.write_matches(batch_settlements=True)
    for line in StatementLine.objects.filter(source=Source.GATEWAY, booking_date=day, status=LineStatus.UNMATCHED):
        if not line.exceptions.exists():
            _open_exception(
                ExceptionKind.UNMATCHED_LINE,
                line=line,
                detail=f"Gateway transaction {line.reference} ({line.gross} OMR) is not in the ledger.",
            )
    _flag_missing_entries(day, Source.GATEWAY, EntryKind.ONLINE_TOPUP, clearing)
    return matched, settled


def _settle_batches(day: dt.date, run: ReconciliationRun) -> Decimal:
    """Each unsettled batch whose transactions are all accounted for is settled by one entry once the bank
    credit that paid it is there; the lines, batches and credits are then updated a few statements at a time
    (not a statement per batch: a million lines come in a thousand batches).
    """
    # A batch whose transactions are not all accounted for waits: their exceptions say why.
    batches = list(GatewayBatch.objects.filter(pk__in=matching.batches_accounted_for(day)).order_by("batch_date", "id"))
    credits = _bank_credits({ref for batch in batches for ref in (batch.batch_id, batch.payout_reference) if ref})
    settled: list[GatewayBatch] = []
    paid_lines: list[StatementLine] = []
    grace = dt.timedelta(days=settings.ERIAL_BATCH_PAYOUT_DAYS)
    for batch in batches:
        found = [credits[ref] for ref in (batch.batch_id, batch.payout_reference) if ref in credits]
        credit = min(found, key=lambda line: line.pk) if found else None
        if credit is None:
            if run.business_day - batch.batch_date > grace:
                _open_exception(
                    ExceptionKind.BATCH_MISMATCH,
                    batch=batch,
                    amount=batch.net,
                    detail=f"Gateway batch {batch.batch_id} ({batch.net} OMR net) was not paid into the bank.",
                )
            continue
        credits.pop(credit.reference)  # one credit pays one batch
        if credit.amount != batch.net:
            _open_exception(
                ExceptionKind.BATCH_MISMATCH,
                line=credit,
                batch=batch,
                detail=f"The bank received {credit.amount} OMR for batch {batch.batch_id}, "
                f"the gateway reported {batch.net} OMR net.",
            )
            continue
        entry = _post_batch_settlement(batch)
        batch.settlement_entry, batch.bank_line = entry, credit
        credit.status, credit.matched_entry, credit.settled_entry = LineStatus.MATCHED, entry, entry
        settled.append(batch)
        paid_lines.append(credit)
    if not settled:
        return ZERO
    GatewayBatch.objects.bulk_update(settled, ["settlement_entry", "bank_line"], batch_size=500)
    StatementLine.objects.bulk_update(paid_lines, ["status", "matched_entry", "settled_entry"], batch_size=500)
    # Lines accounted for before this run (matched earlier, or resolved by finance without an entry of their
    # own); the lines matched in this run are settled as their matches are written.
    entry_of_batch = GatewayBatch.objects.filter(batch_id=OuterRef("batch_id")).values("settlement_entry_id")[:1]
    for start in range(0, len(settled), 500):
        StatementLine.objects.filter(
            source=Source.GATEWAY,
            batch_id__in=[batch.batch_id for batch in settled[start : start + 500]],
            status__in=[LineStatus.MATCHED, LineStatus.RESOLVED],
            settled_entry__isnull=True,
        ).update(settled_entry_id=Subquery(entry_of_batch))
    return sum((batch.net for batch in settled), ZERO)


def _bank_credits(references: set[str]) -> dict[str, StatementLine]:
    """The first open bank line (by id) carrying each of ``references``: the credits that pay batches."""
    found: dict[str, StatementLine] = {}
    wanted = sorted(references)
    for start in range(0, len(wanted), 500):
        lines = StatementLine.objects.filter(
            source=Source.BANK, status=LineStatus.UNMATCHED, reference__in=wanted[start : start + 500]
        )
        for line in lines.order_by("id"):
            found.setdefault(line.reference, line)
    return found


def _post_batch_settlement(batch: GatewayBatch) -> Entry:
    legs = [
        ledger.Leg(system_account(SystemAccount.BANK), batch.net),
        ledger.Leg(system_account(SystemAccount.GATEWAY_CLEARING), -batch.gross),
    ]
    if batch.fee:
        legs.append(ledger.Leg(system_account(SystemAccount.GATEWAY_FEE_EXPENSE), batch.fee))
    return ledger.post(
        kind=EntryKind.SETTLEMENT,
        legs=legs,
        idempotency_key=f"settle:batch:{batch.batch_id}",
        scope="settlements",
        reference=batch.batch_id,
        memo=f"Card gateway batch {batch.batch_id} paid",
        metadata={"batch": batch.batch_id},
    )


# --- both -------------------------------------------------------------------------------------------


def _flag_missing_entries(day: dt.date, source: Source, kind: str, account: int) -> None:
    """Ledger entries of the day that no statement line accounts for (after the grace for late bookings)."""
    through = day - dt.timedelta(days=settings.ERIAL_RECONCILIATION_GRACE_DAYS)
    # NOT EXISTS (an anti-join), not NOT IN: with a million matched lines NOT IN's list outgrows work_mem and
    # PostgreSQL rescans it for every posting.
    # The posting's own time bounds the day too, so the (account, created_at) index reads that day's postings
    # only, not the account's whole history.
    start, end = day_bounds(through)
    postings = Posting.objects.filter(
        ~Exists(StatementLine.objects.filter(matched_entry_id=OuterRef("entry_id"))),
        ~Exists(
            ReconException.objects.filter(kind=ExceptionKind.MISSING_FROM_STATEMENT, entry_id=OuterRef("entry_id"))
        ),
        account_id=account,
        amount__gt=0,
        created_at__gte=start,
        created_at__lt=end,
        entry__kind=kind,
        entry__business_day=through,
    ).select_related("entry")
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
