"""Finance corrects a cash top-up credited to the wrong wallet, under maker-checker: one proposes, another approves.

A cashier who typed a valid but wrong account number voids the top-up at the counter while the session is open.
After the session is closed (the cash counted), or when the void was refused because the wrong wallet spent the
money, only finance moves it: a proposal names the top-up (by its receipt), the right account and why; another
finance user approves, which posts one adjusting entry, wrong wallet -> right wallet, for the top-up's amount.
The top-up, its receipt, its commission and the office's cash stay as they were: the cash was taken, only
the wallet it went to was wrong.

Guarantees: every refusal writes nothing; nobody approves or rejects their own proposal; a top-up has at most one
open proposal and is corrected at most once (also constraints in the database); approving posts under the
ledger's own locks, with an idempotency key derived from the correction, so two approvals racing post once.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from erial.errors import (
    AccountInactive,
    Forbidden,
    InsufficientFunds,
    InvalidRequest,
    InvalidTransition,
    NotFound,
)
from erial.money import format_amount
from erial.roles import Role, has_role
from ledger import services as ledger
from ledger.models import Entry, EntryKind, Wallet, WalletStatus
from ledger.receipts import normalise_receipt_number
from ledger.wallets import find_wallet

from .models import CashTopup, CorrectionStatus, SessionStatus, TopupCorrection

#: The ledger's idempotency scope of correction entries; the key is ``correction:<id>``.
SCOPE = "agents.topup_correction"
REASON_MAX = TopupCorrection._meta.get_field("reason").max_length


def _require_finance(actor: AbstractBaseUser) -> None:
    if not has_role(actor, Role.FINANCE):
        raise Forbidden("Only finance corrects a cash top-up.")


def topup_by_receipt(receipt_number: str) -> CashTopup:
    """The cash top-up with this receipt number; a mistyped number is refused as such, an unknown one not found."""
    try:
        number = normalise_receipt_number(receipt_number)
    except InvalidRequest as refused:
        raise InvalidRequest(refused.detail, field="receipt_number") from None
    topup = CashTopup.objects.select_related("wallet", "session").filter(receipt_number=number).first()
    if topup is None:
        raise NotFound(f"No cash top-up has receipt number {number}.", field="receipt_number")
    return topup


def check_correction(*, topup: CashTopup, account_number: str, reason: str, actor: AbstractBaseUser) -> Wallet:
    """Refuse what ``propose_correction`` would refuse, writing nothing (a form checks before it saves).

    Returns the wallet the top-up should have gone to.
    """
    _require_finance(actor)
    current = CashTopup.objects.select_related("wallet", "session").get(pk=topup.pk)
    return _checked(current, account_number, reason)


def propose_correction(
    *, topup: CashTopup, account_number: str, reason: str, actor: AbstractBaseUser
) -> TopupCorrection:
    """The maker: say which account a cash top-up should have gone to, and why. Nothing moves until another
    finance user approves."""
    _require_finance(actor)
    with transaction.atomic():
        # The top-up's row, so two proposals for it are made one after the other (the second sees the first).
        locked = (
            CashTopup.objects.select_for_update(of=("self",), no_key=True)
            .select_related("wallet", "session")
            .get(pk=topup.pk)
        )
        wallet = _checked(locked, account_number, reason)
        try:
            with transaction.atomic():
                return TopupCorrection.objects.create(
                    topup=locked, wallet=wallet, reason=reason.strip(), proposed_by=actor
                )
        except IntegrityError:  # a backend without row locks: the database's one-open-proposal rule
            raise InvalidTransition(
                f"Top-up {locked.receipt_number} already has a correction proposed: approve or reject it first.",
                field="receipt_number",
            ) from None


def approve_correction(*, correction: TopupCorrection, actor: AbstractBaseUser) -> TopupCorrection:
    """The checker: move the top-up's amount from the wrong wallet to the right one, in one adjusting entry.

    Nobody approves their own proposal. If the wrong wallet no longer holds the amount (or either wallet is
    blocked), the ledger refuses, nothing changes and the proposal stays open: approve it later, or reject it.
    """
    _require_finance(actor)
    with transaction.atomic():
        locked = _locked(correction)
        if locked.proposed_by_id == actor.pk:
            raise Forbidden("Maker-checker: a correction is approved by another finance user than its proposer.")
        topup = locked.topup
        if topup.is_voided:  # cannot happen once the session is closed; said plainly if it ever does
            raise InvalidTransition(f"Top-up {topup.receipt_number} was voided: there is nothing to correct.")
        entry = _move(locked, actor)
        locked.approve()
        locked.entry, locked.decided_by, locked.decided_at = entry, actor, timezone.now()
        locked.save()
    return locked


def reject_correction(*, correction: TopupCorrection, actor: AbstractBaseUser, note: str = "") -> TopupCorrection:
    """The checker says no: nothing moves, and the top-up may take a new proposal."""
    _require_finance(actor)
    with transaction.atomic():
        locked = _locked(correction)
        if locked.proposed_by_id == actor.pk:
            raise Forbidden("Maker-checker: a correction is decided by another finance user than its proposer.")
        locked.reject()
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.decision_note = (note or "").strip()[: TopupCorrection._meta.get_field("decision_note").max_length]
        locked.save()
    return locked


# --- the rules -------------------------------------------------------------------------------------------


def _checked(topup: CashTopup, account_number: str, reason: str) -> Wallet:
    """The right wallet, or the refusal: the top-up must be correctable and the account a different, active one."""
    receipt = topup.receipt_number
    if topup.is_voided:
        raise InvalidTransition(
            f"Top-up {receipt} was voided at the counter: there is nothing to correct.", field="receipt_number"
        )
    if topup.session.status == SessionStatus.OPEN:
        raise InvalidTransition(
            f"The cashier session of top-up {receipt} is still open: the cashier voids it at the counter and tops "
            "up the right account. Finance corrects a top-up once its session is closed.",
            field="receipt_number",
        )
    earlier = topup.corrections.filter(status__in=[CorrectionStatus.APPROVED, CorrectionStatus.PROPOSED])
    for status, number in earlier.values_list("status", "wallet__number"):
        if status == CorrectionStatus.APPROVED:
            raise InvalidTransition(
                f"Top-up {receipt} was already corrected (moved to {number}).", field="receipt_number"
            )
        raise InvalidTransition(
            f"Top-up {receipt} already has a correction proposed (to {number}): approve or reject it first.",
            field="receipt_number",
        )
    wallet = _right_wallet(topup, account_number)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRequest("Say why the top-up goes to another account: a reason is required.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidRequest(f"A reason is at most {REASON_MAX} characters.", field="reason")
    return wallet


def _right_wallet(topup: CashTopup, account_number: str) -> Wallet:
    try:
        wallet = find_wallet(account_number)
    except InvalidRequest as refused:  # mistyped: the check digit does not match, or not 8 digits
        raise InvalidRequest(refused.detail, field="account_number") from None
    except NotFound as refused:
        raise NotFound(refused.detail, field="account_number") from None
    if wallet.pk == topup.wallet_id:
        raise InvalidRequest(
            f"Top-up {topup.receipt_number} was credited to {wallet.number} already: name the account it should "
            "have gone to.",
            field="account_number",
        )
    if wallet.status != WalletStatus.ACTIVE:
        raise AccountInactive(
            f"Account {wallet.number} is {wallet.status}: it cannot receive the top-up.", field="account_number"
        )
    return wallet


def _locked(correction: TopupCorrection) -> TopupCorrection:
    """The correction under its row lock (one decision at a time), still proposed, or the refusal."""
    locked = (
        TopupCorrection.objects.select_for_update(of=("self",))
        .select_related("topup__wallet__account", "wallet__account")
        .get(pk=correction.pk)
    )
    if locked.status != CorrectionStatus.PROPOSED:
        raise InvalidTransition(
            f"The correction of top-up {locked.topup.receipt_number} is already {locked.status}: it is decided once."
        )
    return locked


def _move(correction: TopupCorrection, actor: AbstractBaseUser) -> Entry:
    """wrong wallet -> right wallet, the top-up's amount, one entry (the ledger locks both wallets)."""
    topup, right = correction.topup, correction.wallet
    wrong, amount = topup.wallet, topup.amount
    try:
        return ledger.post(
            kind=EntryKind.ADJUSTMENT,
            legs=[ledger.Leg(wrong.account, amount), ledger.Leg(right.account, -amount)],
            idempotency_key=f"correction:{correction.pk}",
            scope=SCOPE,
            actor=actor,
            memo=f"Correction of cash top-up {topup.receipt_number}: {wrong.number} -> {right.number}",
            reference=topup.receipt_number,
            metadata={
                "correction": correction.pk,
                "topup": str(topup.pk),
                "receipt_number": topup.receipt_number,
                "from_wallet": wrong.number,
                "to_wallet": right.number,
            },
        )
    except InsufficientFunds as refused:
        raise InsufficientFunds(
            f"Wallet {wrong.number} no longer holds the {format_amount(amount)} OMR of top-up "
            f"{topup.receipt_number}: the correction cannot be approved now. Approve it once the wallet holds the "
            "amount again, or reject it.",
            **refused.extra,
        ) from None
    except AccountInactive as refused:
        raise AccountInactive(
            f"The correction of top-up {topup.receipt_number} cannot be approved now: {refused.detail}"
        ) from None
