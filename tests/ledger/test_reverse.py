"""reverse(): corrections are new entries that point at the original, never more than was posted."""

import pytest

from erial.errors import InsufficientFunds, InvalidAmount, InvalidRequest, ReversalExceedsOriginal
from ledger import services
from ledger.models import Account, Entry, EntryKind
from ledger.selectors import balance
from ledger.services import Leg
from ledger.verification import verify
from tests.factories import D, key, pay, system, top_up, wallet

pytestmark = pytest.mark.django_db


def test_full_reversal_restores_every_account_and_points_at_the_original():
    w = wallet("10.000")
    payment = pay(w, "2.000")
    reversal = services.reverse(entry=payment, reason="Paid twice by mistake", idempotency_key=key())
    assert reversal.reverses_id == payment.pk
    assert reversal.kind == EntryKind.REVERSAL
    assert balance(w) == D("10.000")
    assert balance(system("revenue.lease_renewal")) == D("0.000")
    assert balance(system("fee_income")) == D("0.000")
    assert Entry.objects.get(pk=reversal.pk).metadata["reason"] == "Paid twice by mistake"
    assert verify().ok


def test_partial_reversal_of_a_two_account_entry():
    w = wallet()
    topup = top_up(w, "10.000")
    services.reverse(entry=topup, amount=D("4.000"), reason="Counted wrong", idempotency_key=key())
    assert balance(w) == D("6.000")
    services.reverse(entry=topup, amount=D("6.000"), reason="Counted wrong again", idempotency_key=key())
    assert balance(w) == D("0.000")


def test_a_full_reversal_after_a_partial_one_reverses_only_the_rest():
    w = wallet()
    topup = top_up(w, "10.000")
    services.reverse(entry=topup, amount=D("4.000"), reason="part", idempotency_key=key())
    services.reverse(entry=topup, reason="the rest", idempotency_key=key())
    assert balance(w) == D("0.000")
    assert balance(system("bank_clearing")) == D("0.000")


def test_explicit_legs_refund_the_amount_and_keep_the_fee():
    w = wallet("10.000")
    payment = pay(w, "2.000", "0.100")
    revenue = system("revenue.lease_renewal")
    services.reverse(
        entry=payment,
        legs=[Leg(w, D("-1.500")), Leg(revenue, D("1.500"))],
        reason="Partial refund",
        kind=EntryKind.REFUND,
        idempotency_key=key(),
    )
    assert balance(w) == D("9.400")
    assert balance(revenue) == D("0.500")
    assert balance(system("fee_income")) == D("0.100")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"amount": D("10.001")}, ReversalExceedsOriginal, "exceeds"),
        ({"amount": D("0")}, InvalidAmount, "positive"),
        ({"amount": D("1.0001")}, InvalidAmount, "3 decimal"),
        ({"reason": "  "}, InvalidRequest, "reason"),
        ({"amount": D("1.000"), "legs": []}, InvalidRequest, "not both"),
    ],
)
def test_bad_reversals_are_refused_and_write_nothing(ledger_snapshot, kwargs, error, message):
    w = wallet()
    topup = top_up(w, "10.000")
    before = ledger_snapshot()
    with pytest.raises(error, match=message):
        services.reverse(entry=topup, **{"reason": "r", "idempotency_key": key(), **kwargs})
    assert ledger_snapshot() == before


def test_nothing_more_once_fully_reversed(ledger_snapshot):
    w = wallet()
    topup = top_up(w, "10.000")
    services.reverse(entry=topup, reason="void", idempotency_key=key())
    before = ledger_snapshot()
    for kwargs in ({}, {"amount": D("0.001")}):
        with pytest.raises(ReversalExceedsOriginal):
            services.reverse(entry=topup, reason="again", idempotency_key=key(), **kwargs)
    assert ledger_snapshot() == before


def test_partial_amount_on_a_multi_account_entry_needs_legs():
    payment = pay(wallet("10.000"), "2.000")
    with pytest.raises(InvalidRequest, match="needs legs"):
        services.reverse(entry=payment, amount=D("1.000"), reason="r", idempotency_key=key())


def test_legs_must_oppose_the_original_and_stay_on_its_accounts(ledger_snapshot):
    w = wallet("10.000")
    payment = pay(w, "2.000")
    revenue, other = system("revenue.lease_renewal"), system("revenue.parking_fine")
    before = ledger_snapshot()
    with pytest.raises(ReversalExceedsOriginal):  # same direction as the original: not a reversal
        services.reverse(
            entry=payment, legs=[Leg(w, D("1.000")), Leg(revenue, D("-1.000"))], reason="r", idempotency_key=key()
        )
    with pytest.raises(InvalidRequest, match="not part of entry"):
        services.reverse(
            entry=payment, legs=[Leg(w, D("-1.000")), Leg(other, D("1.000"))], reason="r", idempotency_key=key()
        )
    assert ledger_snapshot() == before


def test_reversal_that_would_overdraw_the_wallet_is_refused():
    w = wallet()
    topup = top_up(w, "10.000")
    pay(w, "9.000")
    with pytest.raises(InsufficientFunds, match=r"holds 0\.900"):
        services.reverse(entry=topup, reason="void", idempotency_key=key())
    assert balance(w) == D("0.900")


def test_retried_reversal_returns_the_same_entry():
    w = wallet()
    topup = top_up(w, "10.000")
    k = key()
    first = services.reverse(entry=topup, amount=D("3.000"), reason="r", idempotency_key=k)
    again = services.reverse(entry=topup, amount=D("3.000"), reason="r", idempotency_key=k)
    assert (again.pk, again.replayed) == (first.pk, True)
    assert balance(w) == D("7.000")


def test_legs_chosen_under_the_lock_from_what_remains():
    w = wallet("10.000")
    payment = pay(w, "2.000", "0.100")
    seen = []

    def refund_all_that_remains(remaining):
        seen.append(remaining)
        return [Leg(Account.objects.get(pk=pk), -left) for pk, left in remaining.items()]

    k = key()
    refund = services.reverse(
        entry=payment, legs=refund_all_that_remains, reason="r", idempotency_key=k, request_fingerprint="refund-all"
    )
    assert balance(w) == D("10.000")
    assert seen == [
        {w.pk: D("2.100"), system("revenue.lease_renewal").pk: D("-2.000"), system("fee_income").pk: D("-0.100")}
    ]
    # a retry replays before choosing legs again (nothing remains now, yet it is not refused)
    again = services.reverse(
        entry=payment, legs=refund_all_that_remains, reason="r", idempotency_key=k, request_fingerprint="refund-all"
    )
    assert (again.pk, again.replayed, len(seen)) == (refund.pk, True, 1)


def test_legs_chosen_at_posting_time_need_a_request_fingerprint():
    payment = pay(wallet("10.000"), "2.000")
    with pytest.raises(InvalidRequest, match="fingerprint"):
        services.reverse(entry=payment, legs=lambda remaining: [], reason="r", idempotency_key=key())
