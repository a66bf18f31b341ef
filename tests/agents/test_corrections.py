"""Finance corrects a cash top-up credited to the wrong wallet, under maker-checker (``agents.corrections``).

Given a cashier who typed a valid but wrong account number and closed the session, one finance user proposes the
right account, another approves: one adjusting entry moves the amount, the top-up and its receipt stay. Every
refusal writes nothing, in the ledger or in the corrections table.
"""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from agents import corrections, services
from agents.forms import show_refusal
from agents.models import CashTopup, CorrectionStatus, TopupCorrection
from erial.errors import (
    AccountInactive,
    Forbidden,
    InsufficientFunds,
    InvalidRequest,
    InvalidTransition,
    NotFound,
)
from erial.roles import Role
from ledger import account_numbers, wallets
from ledger.models import Entry, EntryKind, IdempotencyKey, Wallet
from ledger.selectors import balance
from ledger.verification import verify
from tests.agents.conftest import make_office, open_session, topup
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, pay
from tests.parallel import errors_of, in_parallel

pytestmark = pytest.mark.django_db


# --- the business's words ------------------------------------------------------------------------------


def finance():
    return make_user(Role.FINANCE)


def closed_topup(amount: str = "12.000", *, wrong: Wallet | None = None, kind: str = "internal") -> CashTopup:
    """A cash top-up into ``wrong`` (a valid but wrong account), in a session since counted and closed."""
    office = make_office(kind, float_="100.000" if kind == "external" else "0.000")
    session = open_session(office, "20.000")
    made = topup(session, wrong or open_wallet(), amount)
    services.close_session(session=session, counted_cash=D("20.000") + D(amount), actor=session.cashier.user)
    return CashTopup.objects.select_related("wallet__account", "session", "office__cash_account").get(pk=made.pk)


def propose(made: CashTopup, right: Wallet | str, *, by=None, reason: str = "Cashier typed the wrong number"):
    number = right if isinstance(right, str) else right.number
    return corrections.propose_correction(topup=made, account_number=number, reason=reason, actor=by or finance())


def approve(correction: TopupCorrection, by=None) -> TopupCorrection:
    return corrections.approve_correction(correction=correction, actor=by or finance())


def stored(correction: TopupCorrection) -> TopupCorrection:
    """Read afresh: the status is protected (django-fsm), so it is never refreshed in place."""
    return TopupCorrection.objects.get(pk=correction.pk)


@pytest.fixture
def everything(ledger_snapshot):
    """The ledger, the corrections and the top-ups as they stand: a refusal must leave all three unchanged."""

    def snapshot() -> dict:
        return {
            "ledger": ledger_snapshot(),
            "corrections": sorted(
                TopupCorrection.objects.values_list("pk", "status", "wallet_id", "decided_by_id", "entry_id")
            ),
            "topups": sorted(CashTopup.objects.values_list("pk", "wallet_id", "amount", "entry_id", "void_entry_id")),
        }

    return snapshot


def unknown_number() -> str:
    while True:
        number = account_numbers.new_number()
        if not Wallet.objects.filter(number=number).exists():
            return number


def mistyped(number: str) -> str:
    """One digit off: the check digit catches it (never someone else's wallet)."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


# --- the happy path ------------------------------------------------------------------------------------


def test_one_proposes_another_approves_and_the_money_moves_to_the_right_wallet():
    # Given 12.000 cash credited to the wrong wallet at an external agent, the session closed
    wrong, right = open_wallet(), open_wallet("1.000")
    made = closed_topup("12.000", wrong=wrong, kind="external")
    float_before = balance(made.office.cash_account)
    entries_before = Entry.objects.count()
    maker, checker = finance(), finance()

    # When finance user A proposes the right account and B approves
    proposal = propose(made, right, by=maker)
    assert (proposal.status, proposal.proposed_by, proposal.entry) == (CorrectionStatus.PROPOSED, maker, None)
    assert Entry.objects.count() == entries_before  # nothing moves on a proposal
    approved = approve(proposal, by=checker)

    # Then the amount moved, in one balanced adjusting entry naming the receipt
    assert balance(wrong.account) == D("0.000")
    assert balance(right.account) == D("13.000")
    assert Entry.objects.count() == entries_before + 1
    entry = Entry.objects.get(pk=approved.entry_id)
    assert entry.kind == EntryKind.ADJUSTMENT
    assert made.receipt_number in entry.memo and entry.reference == made.receipt_number
    assert entry.metadata["correction"] == proposal.pk
    assert sorted(entry.postings.values_list("account_id", "amount")) == sorted(
        [(wrong.account_id, D("12.000")), (right.account_id, D("-12.000"))]
    )
    assert IdempotencyKey.objects.filter(
        scope=corrections.SCOPE, key=f"correction:{proposal.pk}", entry_id=entry.pk
    ).exists()
    # And the correction is approved by B
    approved = stored(proposal)
    assert (approved.status, approved.decided_by, approved.entry_id) == (CorrectionStatus.APPROVED, checker, entry.pk)
    assert approved.decided_at is not None
    # And the top-up, its receipt, the cash and the commission are as they were
    after = CashTopup.objects.get(pk=made.pk)
    assert (after.wallet_id, after.amount, after.entry_id, after.receipt_number, after.commission) == (
        wrong.pk,
        made.amount,
        made.entry_id,
        made.receipt_number,
        made.commission,
    )
    assert not after.is_voided
    assert balance(made.office.cash_account) == float_before
    report = verify()
    assert report.ok, report.findings


def test_a_rejected_proposal_moves_nothing_and_a_new_one_may_follow(everything):
    made, right = closed_topup(), open_wallet()
    proposal = propose(made, right)
    before = everything()
    rejected = corrections.reject_correction(correction=proposal, actor=finance(), note="Ask the customer first")
    assert stored(rejected).status == CorrectionStatus.REJECTED
    assert stored(rejected).decision_note == "Ask the customer first"
    assert everything()["ledger"] == before["ledger"]
    approve(propose(made, right))
    assert balance(right.account) == D("12.000")


# --- maker-checker ------------------------------------------------------------------------------------


def test_the_maker_neither_approves_nor_rejects_their_own(everything):
    maker = finance()
    proposal = propose(closed_topup(), open_wallet(), by=maker)
    before = everything()
    with pytest.raises(Forbidden, match="Maker-checker"):
        approve(proposal, by=maker)
    with pytest.raises(Forbidden, match="Maker-checker"):
        corrections.reject_correction(correction=proposal, actor=maker)
    assert everything() == before
    assert stored(proposal).status == CorrectionStatus.PROPOSED


@pytest.mark.parametrize("role", [None, Role.ADMIN, Role.AGENT, Role.CUSTOMER, Role.SERVICE])
def test_only_finance_proposes_and_decides(everything, role):
    made, right = closed_topup(), open_wallet()
    outsider = make_user(role)
    before = everything()
    with pytest.raises(Forbidden):
        propose(made, right, by=outsider)
    with pytest.raises(Forbidden):
        corrections.check_correction(topup=made, account_number=right.number, reason="x", actor=outsider)
    assert everything() == before
    proposal = propose(made, right)
    before = everything()
    with pytest.raises(Forbidden):
        approve(proposal, by=outsider)
    with pytest.raises(Forbidden):
        corrections.reject_correction(correction=proposal, actor=outsider)
    assert everything() == before


# --- refused proposals write nothing --------------------------------------------------------------------


def _voided(right):
    session = open_session(make_office("internal"), "0.000")
    made = topup(session, open_wallet(), "5.000")
    services.void_cash_topup(topup=made, actor=session.cashier.user, reason="Typo", idempotency_key=uuid.uuid4().hex)
    services.close_session(session=session, counted_cash=D("0.000"), actor=session.cashier.user)
    return made, right.number


def _already_corrected(right):
    made = closed_topup()
    approve(propose(made, right))
    return made, open_wallet().number


def _open_proposal(right):
    made = closed_topup()
    propose(made, right)
    return made, open_wallet().number


def _session_open(right):
    return topup(open_session(make_office("internal")), open_wallet(), "5.000"), right.number


def _frozen(right):
    wallets.freeze_wallet(wallet=right, actor=finance(), reason="Fraud check")
    return closed_topup(), right.number


def _closed(right):
    wallets.close_wallet(wallet=right, actor=finance(), reason="Left Oman", idempotency_key=uuid.uuid4().hex)
    return closed_topup(), right.number


REFUSED_PROPOSALS = {
    "voided at the counter": (_voided, InvalidTransition, "receipt_number", "voided"),
    "already corrected": (_already_corrected, InvalidTransition, "receipt_number", "already corrected"),
    "an open proposal": (_open_proposal, InvalidTransition, "receipt_number", "already has a correction proposed"),
    "session still open": (_session_open, InvalidTransition, "receipt_number", "still open"),
    "account mistyped": (
        lambda right: (closed_topup(), mistyped(right.number)),
        InvalidRequest,
        "account_number",
        "check digit",
    ),
    "account not 8 digits": (lambda right: (closed_topup(), "1234"), InvalidRequest, "account_number", "8 digits"),
    "account unknown": (lambda right: (closed_topup(), unknown_number()), NotFound, "account_number", "No e-Rial"),
    "the same wallet": (
        lambda right: (made := closed_topup(), made.wallet.number),
        InvalidRequest,
        "account_number",
        "credited to",
    ),
    "account frozen": (_frozen, AccountInactive, "account_number", "frozen"),
    "account closed": (_closed, AccountInactive, "account_number", "closed"),
}


@pytest.mark.parametrize("case", list(REFUSED_PROPOSALS))
def test_a_refused_proposal_writes_nothing(everything, case):
    arrange, error, field, words = REFUSED_PROPOSALS[case]
    made, number = arrange(open_wallet())
    before = everything()
    with pytest.raises(error, match=words) as refused:
        corrections.propose_correction(topup=made, account_number=number, reason="Wrong number", actor=finance())
    assert refused.value.extra["field"] == field
    with pytest.raises(error):  # the form's check says the same, before anything is saved
        corrections.check_correction(topup=made, account_number=number, reason="Wrong number", actor=finance())
    assert everything() == before
    assert verify().ok


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_proposal_needs_a_reason(everything, reason):
    made, right = closed_topup(), open_wallet()
    before = everything()
    with pytest.raises(InvalidRequest) as refused:
        propose(made, right, reason=reason)
    assert refused.value.extra["field"] == "reason"
    assert everything() == before


def test_the_top_up_is_found_by_its_receipt_number():
    made = closed_topup()
    assert corrections.topup_by_receipt(f" {made.receipt_number[:6]}-{made.receipt_number[6:].lower()} ") == made
    with pytest.raises(InvalidRequest, match="mistyped") as refused:
        corrections.topup_by_receipt(mistyped(made.receipt_number))
    assert refused.value.extra["field"] == "receipt_number"
    body = "1234567890"
    with pytest.raises(NotFound) as refused:
        corrections.topup_by_receipt("R" + body + account_numbers.check_digit(body))
    assert refused.value.extra["field"] == "receipt_number"


# --- refused approvals write nothing ---------------------------------------------------------------------


def test_approval_is_refused_while_the_wrong_wallet_has_spent_the_money_then_it_can_be_rejected(everything):
    # Given a 12.000 top-up into the wrong wallet, which then paid 10.000 + 0.100 fee
    wrong, right = open_wallet(), open_wallet()
    made = closed_topup("12.000", wrong=wrong)
    pay(wrong.account, "10.000", "0.100")
    proposal = propose(made, right)
    before = everything()
    # When another finance user approves, the ledger refuses: the wallet holds 1.900
    with pytest.raises(InsufficientFunds, match=f"no longer holds the 12.000 OMR of top-up {made.receipt_number}"):
        approve(proposal)
    # Then nothing changed, and the proposal is still open
    assert everything() == before
    assert stored(proposal).status == CorrectionStatus.PROPOSED
    assert (balance(wrong.account), balance(right.account)) == (D("1.900"), D("0.000"))
    # And it can be rejected
    corrections.reject_correction(correction=proposal, actor=finance(), note="The money is spent")
    assert stored(proposal).status == CorrectionStatus.REJECTED
    assert everything()["ledger"] == before["ledger"]
    assert verify().ok


def test_approval_is_refused_when_a_wallet_was_blocked_since_the_proposal(everything):
    made, right = closed_topup(), open_wallet()
    proposal = propose(made, right)
    wallets.freeze_wallet(wallet=right, actor=finance(), reason="Fraud check")
    before = everything()
    with pytest.raises(AccountInactive, match=f"correction of top-up {made.receipt_number} cannot be approved"):
        approve(proposal)
    assert everything() == before
    assert stored(proposal).status == CorrectionStatus.PROPOSED


@pytest.mark.parametrize(
    ("first", "second"),
    [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject")],
)
def test_a_correction_is_decided_once(everything, first, second):
    proposal = propose(closed_topup(), open_wallet())
    decide = {
        "approve": lambda: approve(proposal),
        "reject": lambda: corrections.reject_correction(correction=proposal, actor=finance()),
    }
    decide[first]()
    before = everything()
    with pytest.raises(InvalidTransition, match="already"):
        decide[second]()
    assert everything() == before


def test_retrying_an_approval_is_safe_and_posts_once(everything):
    wrong, right = open_wallet(), open_wallet()
    proposal = propose(closed_topup("7.500", wrong=wrong), right)
    checker = finance()
    before = everything()
    # The approval's transaction fails after the post (say the process dies): nothing of it stays
    with (
        mock.patch.object(TopupCorrection, "save", side_effect=RuntimeError("connection lost")),
        pytest.raises(RuntimeError),
    ):
        approve(proposal, by=checker)
    assert everything() == before
    # The retry posts once; a second retry is refused and posts nothing
    approve(proposal, by=checker)
    after = everything()
    with pytest.raises(InvalidTransition):
        approve(proposal, by=checker)
    assert everything() == after
    assert after["ledger"]["entries"] == before["ledger"]["entries"] + 1
    assert (balance(wrong.account), balance(right.account)) == (D("0.000"), D("7.500"))
    assert verify().ok


# --- the database holds the rules too -------------------------------------------------------------------


def test_the_database_refuses_a_second_open_proposal_a_second_approval_and_the_makers_decision():
    made, right = closed_topup(), open_wallet()
    maker, checker = finance(), finance()
    proposal = propose(made, right, by=maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        TopupCorrection.objects.create(topup=made, wallet=right, reason="again", proposed_by=checker)
    with pytest.raises(IntegrityError), transaction.atomic():
        TopupCorrection.objects.filter(pk=proposal.pk).update(
            status=CorrectionStatus.REJECTED, decided_by=maker, decided_at=timezone.now()
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # approved without an entry
        TopupCorrection.objects.filter(pk=proposal.pk).update(
            status=CorrectionStatus.APPROVED, decided_by=checker, decided_at=timezone.now()
        )
    approve(proposal, by=checker)
    with pytest.raises(IntegrityError), transaction.atomic():  # a second approved correction of the top-up
        TopupCorrection.objects.create(
            topup=made,
            wallet=open_wallet(),
            reason="again",
            proposed_by=maker,
            status=CorrectionStatus.APPROVED,
            decided_by=checker,
            decided_at=timezone.now(),
            entry=Entry.objects.get(pk=made.entry_id),  # any entry no correction names
        )


# --- the counter tells the cashier what finance can do ------------------------------------------------


def test_the_counter_refusal_points_to_the_correction_in_both_languages(ledger_snapshot):
    session = open_session(make_office("internal"), "0.000")
    wrong = open_wallet()
    made = topup(session, wrong, "10.000")
    pay(wrong.account, "5.000")
    before = ledger_snapshot()
    with pytest.raises(InsufficientFunds) as refused:
        services.void_cash_topup(topup=made, actor=session.cashier.user, reason="Typo", idempotency_key="v")
    assert "top-up correction in the back office" in refused.value.detail
    assert "reverse" not in refused.value.detail
    assert ledger_snapshot() == before
    for language, words in [("en", "a top-up correction in the back office"), ("ar", "تصحيح شحن في المكتب الخلفي")]:
        with translation.override(language):
            form = forms.Form(data={})
            form.is_valid()
            show_refusal(form, refused.value)
            shown = " ".join(form.non_field_errors())
        assert words in shown, shown
        assert "Finance can reverse it" not in shown


# --- races on PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_checkers_approving_the_same_proposal_at_once_post_once():
    # Given one proposal and two other finance users
    wrong, right = open_wallet(), open_wallet()
    made = closed_topup("9.000", wrong=wrong)
    proposal = propose(made, right)
    checkers = [finance(), finance()]
    entries = Entry.objects.count()

    # When both approve at the same moment, each on its own connection
    outcomes = in_parallel(2, lambda i: approve(proposal, by=checkers[i]))

    # Then one approval went through and the other was refused: the money moved once
    assert sum(o.ok for o in outcomes) == 1
    assert errors_of(outcomes) == [InvalidTransition]
    assert Entry.objects.count() == entries + 1
    assert Entry.objects.filter(kind=EntryKind.ADJUSTMENT, reference=made.receipt_number).count() == 1
    assert (balance(wrong.account), balance(right.account)) == (D("0.000"), D("9.000"))
    winner = next(o.value for o in outcomes if o.ok)
    assert stored(proposal).decided_by == winner.decided_by
    report = verify()
    assert report.ok, report.findings


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_makers_proposing_for_the_same_top_up_at_once_make_one_proposal():
    made = closed_topup()
    targets, makers = [open_wallet(), open_wallet()], [finance(), finance()]

    outcomes = in_parallel(2, lambda i: propose(made, targets[i], by=makers[i]))

    assert sum(o.ok for o in outcomes) == 1
    assert errors_of(outcomes) == [InvalidTransition]
    assert TopupCorrection.objects.filter(topup=made).count() == 1
