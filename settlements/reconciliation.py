"""The reconciliation of one business day for one source: match, settle, and explain the rest.

Three legs (issue 5):
- gateway transactions <-> ledger card top-ups, one to one on our reference and the gross amount;
- a gateway batch <-> the bank credit that paid it (batch id and net = gross - fees - refunds), then one
  settlement entry per batch: bank (net) + gateway fee expense -> gateway clearing (gross);
- bank lines <-> ledger bank top-ups and agent float deposits: on the reference, else on the amount within
  a few days when exactly one entry fits and no other open line competes for it; bank top-ups are then
  settled (bank -> bank clearing) in one entry.

The result does not depend on the order the statements arrive in or the days are run in: a bank credit
reconciled before the gateway report that explains it is an exception until then, and then pays its batch
(the exception closes itself); a line competing on its amount with a line of another day is ambiguous
whichever day runs first. A gateway ``REFUND`` matches no ledger entry (see ``_explain_refund``): it does
not hold its batch, and it is an exception for finance. No bank line is left unmatched without an exception.

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
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from ledger import services as ledger
from ledger.businessday import day_bounds
from ledger.chart import SystemAccount
from ledger.models import Entry, EntryKind, Posting
from ledger.payments import system_account, system_account_id

from . import floats, matching
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


#: The ledger entries a bank line may be: online top-ups through the bank, agents' float deposits, offices' cash
#: deposits (by reference, else by amount and date).
BANK_KINDS = (EntryKind.ONLINE_TOPUP, EntryKind.FLOAT_DEPOSIT, EntryKind.CASH_DEPOSIT)


def _bank(day: dt.date, run: ReconciliationRun) -> tuple[int, Decimal]:
    bank, clearing = system_account_id(SystemAccount.BANK), system_account_id(SystemAccount.BANK_CLEARING)
    matched = matching.find_reference_matches(
        day,
        Source.BANK,
        kinds=BANK_KINDS,
        accounts=(bank, clearing),
        amount_column="amount",
    )
    # An agent's deposit with its float's reference replenishes the float (before amount matching can take it).
    replenished, replenished_amount = floats.replenish_floats(day)
    matched += replenished
    matched += _match_on_amount(day, accounts=(bank, clearing))
    settled = _settle_bank_topups(day, run, clearing) + replenished_amount
    _explain_bank_lines(day)
    _flag_missing_entries(day, Source.BANK, EntryKind.ONLINE_TOPUP, clearing)
    _flag_missing_entries(day, Source.BANK, EntryKind.CASH_DEPOSIT, clearing)
    _flag_missing_entries(day, Source.BANK, EntryKind.FLOAT_DEPOSIT, bank)
    return matched, settled


def _candidates(line: StatementLine, accounts: tuple[int, ...]) -> list[Entry]:
    since = line.booking_date - dt.timedelta(days=AMOUNT_WINDOW_DAYS)
    postings = Posting.objects.filter(
        ~Exists(StatementLine.objects.filter(matched_entry_id=OuterRef("entry_id"))),
        account_id__in=accounts,
        amount=line.amount,
        entry__kind__in=BANK_KINDS,
        entry__business_day__gte=since,
        entry__business_day__lte=line.booking_date,
    )
    entries = matching.entry_not_pending(Entry.objects.filter(pk__in=postings.values("entry_id")))
    return list(entries.order_by("created_at")[:10])


def _match_on_amount(day: dt.date, *, accounts: tuple[int, ...]) -> int:
    """Lines the reference did not place: matched on amount and date only when exactly one entry fits and no
    other open line competes for it. Otherwise (several entries fit, or several lines want the one that fits)
    nothing is confirmed: each such line is an ambiguous_line exception suggesting the entries that fit.
    """
    batch_references = _batch_references()
    open_lines = list(
        matching.line_not_pending(
            StatementLine.objects.filter(
                source=Source.BANK, booking_date=day, status=LineStatus.UNMATCHED, amount__gt=0
            ).exclude(reference__in=batch_references)
        ).order_by("id")
    )
    fits = {line.pk: _candidates(line, accounts) for line in open_lines}
    only = {
        line.pk: fits[line.pk][0]
        for line in open_lines
        if len(fits[line.pk]) == 1 and not _reference_points_elsewhere(line)
    }
    rivals = _rival_lines([(line, only[line.pk]) for line in open_lines if line.pk in only], batch_references)
    matched = 0
    for line in open_lines:
        found = fits[line.pk]
        if line.pk in only and not rivals[line.pk]:
            line.status, line.matched_entry = LineStatus.MATCHED, found[0]
            line.save(update_fields=["status", "matched_entry"])
            matched += 1
        elif line.pk in only:
            _open_exception(
                ExceptionKind.AMBIGUOUS_LINE,
                line=line,
                detail=f"{rivals[line.pk] + 1} statement lines of {line.amount} OMR compete for the one ledger "
                "entry that fits: confirm which line it is.",
                suggestions=[str(found[0].pk)],
            )
        elif len(found) > 1:
            _open_exception(
                ExceptionKind.AMBIGUOUS_LINE,
                line=line,
                detail=f"{len(found)} ledger entries of {line.amount} OMR fit this line: confirm the right one.",
                suggestions=[str(entry.pk) for entry in found],
            )
    return matched


def _rival_lines(pairs: list[tuple[StatementLine, Entry]], batch_references: list[str]) -> dict[int, int]:
    """For each (line, the one entry that fits it): how many other bank lines could be that entry too.

    A rival is an open bank line (unmatched, or an exception not resolved) of the same amount, of any day
    whose window holds the entry: counting lines of the run's day only would give the entry to whichever
    day is run first. Lines that pay a gateway batch, or whose reference names another ledger entry, are
    nobody's rival. One query for the day's few leftover lines, however many.
    """
    if not pairs:
        return {}
    window = dt.timedelta(days=AMOUNT_WINDOW_DAYS)
    days = [entry.business_day for _, entry in pairs]
    others = matching.line_not_pending(
        StatementLine.objects.filter(
            source=Source.BANK,
            status__in=[LineStatus.UNMATCHED, LineStatus.EXCEPTION],
            amount__in={line.amount for line, _ in pairs},
            booking_date__gte=min(days),
            booking_date__lte=max(days) + window,
        )
        .exclude(reference__in=batch_references)
        .exclude(~Q(reference=""), Exists(Entry.objects.filter(reference=OuterRef("reference"))))
    )
    rows = list(others.values_list("pk", "amount", "booking_date"))
    return {
        line.pk: sum(
            1
            for pk, amount, booked in rows
            if pk != line.pk and amount == line.amount and entry.business_day <= booked <= entry.business_day + window
        )
        for line, entry in pairs
    }


def _batch_references() -> list[str]:
    """References bank credits of gateway batches carry: those lines belong to the gateway leg."""
    pairs = GatewayBatch.objects.values_list("batch_id", "payout_reference")
    return [ref for pair in pairs for ref in pair if ref]


def _reference_points_elsewhere(line: StatementLine) -> bool:
    return bool(line.reference) and Entry.objects.filter(reference=line.reference).exists()


#: What the bank's statement settles out of bank clearing (bank -> bank clearing), one entry per kind and day.
BANK_SETTLED = {
    EntryKind.ONLINE_TOPUP: ("bank", "online top-ups"),
    EntryKind.CASH_DEPOSIT: ("bank-cash", "offices' cash deposits"),
}


def _settle_bank_topups(day: dt.date, run: ReconciliationRun, clearing: int) -> Decimal:
    """Matched bank top-ups and offices' cash deposits leave bank clearing for the bank: one settlement entry per
    kind for the day's new matches (the pending reference matches and the lines matched otherwise), then the
    pending matches are written, each settled by its kind's entry.
    """
    settled_by: dict[str, object] = {}
    settled = ZERO
    for kind, (key, what) in BANK_SETTLED.items():
        lines = StatementLine.objects.filter(
            source=Source.BANK,
            booking_date=day,
            status=LineStatus.MATCHED,
            settled_entry__isnull=True,
            matched_entry__kind=kind,
        )
        total = (lines.aggregate(total=Sum("amount"))["total"] or ZERO) + matching.pending_total(kind)
        if not total:
            continue
        entry = ledger.post(
            kind=EntryKind.SETTLEMENT,
            legs=[
                ledger.Leg(system_account(SystemAccount.BANK), total),
                ledger.Leg(system_account(SystemAccount.BANK_CLEARING), -total),
            ],
            idempotency_key=f"settle:{key}:{day}:{run.attempts}",
            scope="settlements",
            reference=f"{key.upper()}-{day}",
            memo=f"Bank statement {day}: {what} settled",
            metadata={"business_day": str(day)},
        )
        lines.update(settled_entry=entry)
        settled_by[kind] = entry.pk
        settled += total
    matching.write_matches(settlement_for_kind=settled_by)
    return settled


def _explain_bank_lines(day: dt.date) -> None:
    """Every bank line still open becomes an exception, a credit that pays a gateway batch too: the gateway
    leg matches it when the batch settles, and closes its exception then (``_close_explained_by_batches``).
    """
    for line in StatementLine.objects.filter(
        source=Source.BANK, booking_date=day, status=LineStatus.UNMATCHED
    ).iterator():
        same_reference = Entry.objects.filter(reference=line.reference).first() if line.reference else None
        batch = (
            GatewayBatch.objects.filter(Q(batch_id=line.reference) | Q(payout_reference=line.reference))
            .order_by("id")
            .first()
            if line.reference
            else None
        )
        if batch is not None and not line.exceptions.exists():
            if batch.settlement_entry_id:
                why = "which another credit paid already: this one is not in the ledger."
            else:
                why = (
                    "not settled yet: it settles against this credit once its transactions are all accounted "
                    "for and the gateway is reconciled."
                )
            _open_exception(
                ExceptionKind.UNMATCHED_LINE,
                line=line,
                detail=f"Bank credit of {line.amount} OMR ({line.reference}) for gateway batch {batch.batch_id} "
                f"({batch.net} OMR net), {why}",
            )
        elif same_reference is not None:
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
        if line.is_reversal and not line.exceptions.exists():
            _explain_refund(line)
        elif not line.exceptions.exists():
            _open_exception(
                ExceptionKind.UNMATCHED_LINE,
                line=line,
                detail=f"Gateway transaction {line.reference} ({line.gross} OMR) is not in the ledger.",
            )
    _flag_missing_entries(day, Source.GATEWAY, EntryKind.ONLINE_TOPUP, clearing)
    return matched, settled


def _explain_refund(line: StatementLine) -> None:
    """A gateway ``REFUND``: the gateway gave (part of) a card payment back to the card. It matches nothing.

    The ledger has no entry for it: its refunds (design §4, the reverse of a payment, pointing at it) are of
    fee payments, and nothing reverses an online top-up, whose wallet therefore still holds the money. So the
    line is left to finance as an unmatched_line exception suggesting the top-up it refunds (same reference).
    It does not hold its batch: the batch's totals already net it (net = gross - fees - refunds), so the
    batch settles at what the bank received, and the refund's gross stays in gateway clearing, explained by
    this exception, until finance takes it back from the wallet (an adjustment against the wallet's account)
    or writes it off; either posts the line's (negative) gross through gateway clearing, which squares it.
    """
    refunded = (
        Entry.objects.filter(reference=line.reference, kind=EntryKind.ONLINE_TOPUP).first() if line.reference else None
    )
    what = f"top-up {line.reference}" if refunded else f"{line.reference or 'a payment'}, which is not in the ledger"
    _open_exception(
        ExceptionKind.UNMATCHED_LINE,
        line=line,
        detail=f"The gateway refunded {abs(line.gross or line.amount)} OMR of {what} to the card; the ledger holds "
        "no refund of it. Take it back from the wallet (an adjustment against its account) or write it off.",
        suggestions=[str(refunded.pk)] if refunded else [],
    )


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
    _close_explained_by_batches(settled)
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


#: Exceptions a bank credit may carry from before the gateway batch it pays was known (or could settle).
EXPLAINED_BY_A_BATCH = (ExceptionKind.UNMATCHED_LINE, ExceptionKind.AMBIGUOUS_LINE)


def _bank_credits(references: set[str]) -> dict[str, StatementLine]:
    """The first bank line (by id) carrying each of ``references`` that may pay a batch: the credits.

    A line still unmatched, or one whose only exceptions are open ones the batch explains: the bank
    statement was reconciled before the gateway report arrived, or while the batch waited for its
    transactions. Not a line finance is resolving, nor one already found to differ from its batch.
    """
    found: dict[str, StatementLine] = {}
    wanted = sorted(references)
    held = ReconException.objects.filter(line_id=OuterRef("pk")).exclude(
        status=ExceptionStatus.OPEN, kind__in=EXPLAINED_BY_A_BATCH
    )
    for start in range(0, len(wanted), 500):
        lines = StatementLine.objects.filter(
            ~Exists(held),
            source=Source.BANK,
            status__in=[LineStatus.UNMATCHED, LineStatus.EXCEPTION],
            reference__in=wanted[start : start + 500],
        )
        for line in lines.order_by("id"):
            found.setdefault(line.reference, line)
    return found


def _close_explained_by_batches(settled: list[GatewayBatch]) -> None:
    """The batches just settled explain what was open about them: an exception on the credit that paid one
    (from a bank run before the batch was known or could settle), and one saying a batch was not paid into
    the bank (it was, late). Resolved, with a note saying so. One query when there is nothing to close.
    """
    by_line = {batch.bank_line_id: batch for batch in settled}
    by_batch = {batch.pk: batch for batch in settled}
    now, closed = timezone.now(), []
    for start in range(0, len(settled), 500):
        part = settled[start : start + 500]
        stale = ReconException.objects.filter(
            Q(line_id__in=[batch.bank_line_id for batch in part])
            | Q(kind=ExceptionKind.BATCH_MISMATCH, line__isnull=True, batch_id__in=[batch.pk for batch in part]),
            status=ExceptionStatus.OPEN,
        )
        for exception in stale:
            batch = by_line.get(exception.line_id) or by_batch[exception.batch_id]
            note = (
                f" | Resolved: gateway batch {batch.batch_id} ({batch.net} OMR net) was settled against "
                f"bank line {batch.bank_line.position} ({batch.bank_line.reference}), which explains it."
            )
            exception.status, exception.resolved_at = ExceptionStatus.RESOLVED, now
            exception.detail = exception.detail[: 500 - len(note)] + note
            closed.append(exception)
    ReconException.objects.bulk_update(closed, ["status", "resolved_at", "detail"], batch_size=500)


def _post_batch_settlement(batch: GatewayBatch) -> Entry:
    """Bank (net) + gateway fee expense (fee) -> gateway clearing (gross), the batch's totals: a refund is in
    them already (a negative gross), so the net paid is gross - fees - refunds. A zero total has no leg.
    """
    legs = [
        ledger.Leg(system_account(code), amount)
        for code, amount in (
            (SystemAccount.BANK, batch.net),
            (SystemAccount.GATEWAY_CLEARING, -batch.gross),
            (SystemAccount.GATEWAY_FEE_EXPENSE, batch.fee),
        )
        if amount
    ]
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
    source = source or (line.source if line else Source.GATEWAY)
    exception, _created = ReconException.objects.get_or_create(
        **lookup,
        defaults={
            "source": source,
            "detail": detail[:500],
            "business_day": business_day or (line.booking_date if line else timezone.localdate()),
            "amount": amount if amount is not None else (line.amount if line else ZERO),
            "entry": entry,
            "batch": batch,
            "suggestions": suggestions or [],
            "owner": lambda: ReconException.default_owner(source),
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
