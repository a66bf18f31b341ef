"""Finance owns and resolves reconciliation exceptions: assigns them to one another, and resolves them under
maker-checker: one proposes, another approves.

Approving applies the resolution in the same transaction: a manual match (the line is that ledger entry;
a bank top-up is then settled), a write-off to suspense (the bank holds money nobody has claimed yet), or
an adjusting entry against an account finance names.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from erial.errors import Forbidden, InvalidRequest, InvalidTransition, NotFound
from erial.roles import Role, has_role
from ledger import services as ledger
from ledger.chart import SystemAccount
from ledger.models import Account, Entry, EntryKind
from ledger.payments import system_account

from .models import (
    ExceptionStatus,
    LineStatus,
    ReconException,
    Resolution,
    ResolutionAction,
    ResolutionStatus,
    Source,
    StatementLine,
    finance_users,
)


def _require_finance(actor: AbstractBaseUser) -> None:
    if not has_role(actor, Role.FINANCE):
        raise Forbidden("Only finance resolves reconciliation exceptions.")


def assign(*, exception: ReconException, assignee: AbstractBaseUser, actor: AbstractBaseUser) -> ReconException:
    """Give an exception to a finance user (or take it: ``assignee`` is ``actor``), keeping who did and when.

    Refused, writing nothing: an actor without the finance role, an assignee who is not an active finance user
    (``models.finance_users``), and a resolved exception. An exception already theirs is left as it is.
    """
    if not has_role(actor, Role.FINANCE):
        raise Forbidden("Only finance assigns reconciliation exceptions.")
    if assignee is None:
        raise InvalidRequest("Name the finance user the exception is assigned to.")
    if not finance_users().filter(pk=assignee.pk).exists():
        raise InvalidRequest(f"{assignee} is not an active finance user: exceptions are assigned to finance only.")
    with transaction.atomic():
        locked = ReconException.objects.select_for_update().get(pk=exception.pk)
        if locked.status == ExceptionStatus.RESOLVED:
            raise InvalidTransition(f"Exception {locked.pk} is resolved: it is not reassigned.")
        if locked.owner_id != assignee.pk:
            locked.owner, locked.assigned_by, locked.assigned_at = assignee, actor, timezone.now()
            locked.save(update_fields=["owner", "assigned_by", "assigned_at"])
    return locked


def propose(
    *,
    exception: ReconException,
    action: ResolutionAction | str,
    actor: AbstractBaseUser,
    note: str,
    entry: Entry | None = None,
    account_code: str = "",
) -> Resolution:
    """The maker: say how an exception should be resolved. Nothing moves until another person approves."""
    _require_finance(actor)
    if action not in ResolutionAction.values:
        raise InvalidRequest(f"action is one of {', '.join(ResolutionAction.values)}.")
    if not (note or "").strip():
        raise InvalidRequest("Explain the resolution in a note.")
    if action == ResolutionAction.MATCH and (entry is None or exception.line is None):
        raise InvalidRequest("A manual match names the ledger entry the statement line is.")
    if action in (ResolutionAction.WRITE_OFF, ResolutionAction.ADJUST) and exception.line is None:
        raise InvalidRequest("Only a statement line can be written off or adjusted for.")
    if action == ResolutionAction.ADJUST and not Account.objects.filter(code=account_code).exists():
        raise InvalidRequest("An adjustment names the ledger account (code) to post against.")
    with transaction.atomic():
        locked = ReconException.objects.select_for_update().get(pk=exception.pk)
        if locked.status != ExceptionStatus.OPEN:
            raise InvalidTransition(f"Exception {locked.pk} is {locked.status}: it takes no new proposal.")
        resolution = Resolution.objects.create(
            exception=locked,
            action=action,
            entry=entry,
            account_code=account_code,
            note=note.strip()[:500],
            proposed_by=actor,
        )
        if locked.owner_id is None:  # the maker takes an unassigned exception
            locked.owner, locked.assigned_by, locked.assigned_at = actor, actor, timezone.now()
        locked.status = ExceptionStatus.PROPOSED
        locked.save(update_fields=["status", "owner", "assigned_by", "assigned_at"])
    return resolution


def approve(*, resolution: Resolution, actor: AbstractBaseUser) -> Resolution:
    """The checker: apply a proposal. Nobody approves their own."""
    _require_finance(actor)
    with transaction.atomic():
        locked = (
            Resolution.objects.select_for_update(of=("self",)).select_related("exception__line").get(pk=resolution.pk)
        )
        if locked.status != ResolutionStatus.PROPOSED:
            raise InvalidTransition(f"Resolution {locked.pk} is already {locked.status}.")
        if locked.proposed_by_id == actor.pk:
            raise Forbidden("Maker-checker: a resolution is approved by someone other than who proposed it.")
        locked.posted_entry = _apply(locked, actor)
        locked.status, locked.decided_by, locked.decided_at = ResolutionStatus.APPROVED, actor, timezone.now()
        locked.save()
        exception = locked.exception
        exception.status, exception.resolved_at = ExceptionStatus.RESOLVED, timezone.now()
        exception.save(update_fields=["status", "resolved_at"])
    return locked


def reject(*, resolution: Resolution, actor: AbstractBaseUser, note: str = "") -> Resolution:
    _require_finance(actor)
    with transaction.atomic():
        locked = Resolution.objects.select_for_update().select_related("exception").get(pk=resolution.pk)
        if locked.status != ResolutionStatus.PROPOSED:
            raise InvalidTransition(f"Resolution {locked.pk} is already {locked.status}.")
        if locked.proposed_by_id == actor.pk:
            raise Forbidden("Maker-checker: someone other than the proposer decides.")
        locked.status, locked.decided_by, locked.decided_at = ResolutionStatus.REJECTED, actor, timezone.now()
        if note:
            locked.note = f"{locked.note} | rejected: {note}"[:500]
        locked.save()
        locked.exception.status = ExceptionStatus.OPEN
        locked.exception.save(update_fields=["status"])
    return locked


def _apply(resolution: Resolution, actor: AbstractBaseUser) -> Entry | None:
    line: StatementLine | None = resolution.exception.line
    key = f"resolution:{resolution.pk}"
    if resolution.action == ResolutionAction.MATCH:
        return _manual_match(line, resolution.entry, actor, key)
    # Bank lines moved money in the bank; gateway lines in the gateway's clearing account.
    amount = _moved(line)
    side = SystemAccount.BANK if line.source == Source.BANK else SystemAccount.GATEWAY_CLEARING
    if resolution.action == ResolutionAction.WRITE_OFF:
        counter = system_account(SystemAccount.SUSPENSE)
    else:
        counter = Account.objects.get(code=resolution.account_code)
    entry = ledger.post(
        kind=EntryKind.ADJUSTMENT,
        legs=[ledger.Leg(system_account(side), amount), ledger.Leg(counter, -amount)],
        idempotency_key=key,
        scope="settlements.resolution",
        actor=actor,
        reference=line.reference or line.bank_reference,
        memo=f"{resolution.get_action_display()}: {resolution.note}"[:255],
        metadata={"statement_line": line.pk, "exception": resolution.exception_id},
    )
    line.status, line.settled_entry = LineStatus.RESOLVED, entry
    line.save(update_fields=["status", "settled_entry"])
    return entry


def _moved(line: StatementLine) -> Decimal:
    """What a line moved in the ledger's terms: a bank line its amount; a gateway line its gross, which the batch
    settlement takes out of gateway clearing (net to the bank, fee to expense)."""
    return line.amount if line.source == Source.BANK else line.gross


def _manual_match(line: StatementLine, entry: Entry, actor: AbstractBaseUser, key: str) -> Entry | None:
    if StatementLine.objects.filter(matched_entry=entry).exclude(pk=line.pk).exists():
        raise InvalidRequest(f"Entry {entry.pk} is already matched to another statement line.")
    clearing = {Source.BANK: SystemAccount.BANK_CLEARING, Source.GATEWAY: SystemAccount.GATEWAY_CLEARING}[line.source]
    postings = {p.account.code: p.amount.amount for p in entry.postings.select_related("account")}
    amount = _moved(line)
    if amount not in postings.values():
        raise InvalidRequest(f"Entry {entry.pk} does not move {amount} OMR: it cannot be this line.")
    line.status, line.matched_entry = LineStatus.MATCHED, entry
    settlement = None
    if line.source == Source.BANK and entry.kind == EntryKind.ONLINE_TOPUP and postings.get(clearing) == amount:
        settlement = ledger.post(
            kind=EntryKind.SETTLEMENT,
            legs=[
                ledger.Leg(system_account(SystemAccount.BANK), amount),
                ledger.Leg(system_account(clearing), -amount),
            ],
            idempotency_key=key,
            scope="settlements.resolution",
            actor=actor,
            reference=entry.reference,
            memo=f"Bank statement line {line.position} matched by finance",
        )
        line.settled_entry = settlement
    line.save(update_fields=["status", "matched_entry", "settled_entry"])
    return settlement


def exception_or_404(pk: int) -> ReconException:
    exception = ReconException.objects.select_related("line").filter(pk=pk).first()
    if exception is None:
        raise NotFound("No such exception.")
    return exception
