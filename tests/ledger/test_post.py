"""post(): the one way money moves. Every rule, and every refusal leaving the ledger unchanged."""

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction

from erial.errors import (
    AccountInactive,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidRequest,
    LimitExceeded,
    MissingIdempotencyKey,
)
from ledger import services
from ledger.models import Account, Entry, EntryKind, IdempotencyKey, Posting
from ledger.selectors import balance
from ledger.services import Leg
from ledger.verification import verify
from tests.factories import D, agent_float, fee_payment_legs, key, pay, system, top_up, wallet

pytestmark = pytest.mark.django_db


def test_fee_payment_moves_amount_to_revenue_and_fee_to_fee_income():
    # Given a wallet with 10.000, when a 2.000 lease renewal is paid with the 0.100 fee
    w = wallet("10.000")
    entry = pay(w, "2.000", "0.100", service="lease_renewal")
    # then the wallet holds 7.900, lease revenue 2.000 and fee income 0.100
    assert balance(w) == D("7.900")
    assert balance(system("revenue.lease_renewal")) == D("2.000")
    assert balance(system("fee_income")) == D("0.100")
    postings = {p.account.code: p for p in entry.postings.select_related("account")}
    assert sum(p.amount.amount for p in postings.values()) == 0
    assert postings[w.code].balance_after == D("7.900")
    assert postings["fee_income"].balance_after is None  # hot account: never locked, no cached balance
    assert verify().ok


def test_every_amount_is_stored_with_three_places():
    w = wallet("1.001")
    pay(w, "0.900", "0.101")
    assert balance(w) == D("0.000")
    assert {str(p.amount.amount) for p in Posting.objects.filter(account=w)} == {"-1.001", "1.001"}


def test_same_key_and_request_returns_the_stored_entry_without_moving_money_again():
    w = wallet("10.000")
    k = key()
    first = pay(w, "1.000", idempotency_key=k)
    again = pay(w, "1.000", idempotency_key=k)
    assert again.pk == first.pk
    assert (first.replayed, again.replayed) == (False, True)
    assert balance(w) == D("8.900")
    assert Entry.objects.filter(kind=EntryKind.FEE_PAYMENT).count() == 1


def test_same_key_with_a_different_request_is_a_conflict_and_writes_nothing(ledger_snapshot):
    w = wallet("10.000")
    k = key()
    pay(w, "1.000", idempotency_key=k)
    before = ledger_snapshot()
    with pytest.raises(IdempotencyConflict):
        pay(w, "2.000", idempotency_key=k)
    assert ledger_snapshot() == before


def test_keys_are_scoped():
    w = wallet("10.000")
    legs = fee_payment_legs(w, "1.000")
    a = services.post(kind="fee_payment", legs=legs, idempotency_key="same", scope="client-a")
    b = services.post(kind="fee_payment", legs=legs, idempotency_key="same", scope="client-b")
    assert a.pk != b.pk
    assert balance(w) == D("7.800")


def test_insufficient_funds_says_what_is_available_and_writes_nothing(ledger_snapshot):
    w = wallet("5.000")
    before = ledger_snapshot()
    with pytest.raises(InsufficientFunds) as refused:
        pay(w, "4.901")
    assert refused.value.extra["available"] == "5.000"
    assert ledger_snapshot() == before
    # the refused key was not kept: the same key may be used once the wallet is topped up
    assert not IdempotencyKey.objects.filter(entry__isnull=True).exists()


def test_a_payment_may_empty_the_wallet_to_the_baisa():
    w = wallet("5.000")
    pay(w, "4.900")
    assert balance(w) == D("0.000")


def test_agent_float_may_use_its_credit_limit_and_no_more(ledger_snapshot):
    fl = agent_float(credit_limit="50.000", balance="100.000")
    customer = wallet()

    def top_up_from_float(amount: str):
        return services.post(
            kind="cash_topup", legs=[Leg(fl, D(amount)), Leg(customer, -D(amount))], idempotency_key=key(), scope="t"
        )

    top_up_from_float("150.000")
    assert balance(fl) == D("-50.000")
    before = ledger_snapshot()
    with pytest.raises(LimitExceeded):
        top_up_from_float("0.001")
    assert ledger_snapshot() == before


def _legs_refusals():
    """(name, legs builder, error, message) for every way a request can be malformed."""
    return [
        ("one leg", lambda w, r: [Leg(w, D("1.000"))], InvalidRequest, "at least two legs"),
        ("unbalanced", lambda w, r: [Leg(w, D("1.000")), Leg(r, D("-0.999"))], InvalidAmount, "do not balance"),
        ("zero leg", lambda w, r: [Leg(w, D("0.000")), Leg(r, D("0.000"))], InvalidAmount, "zero amount"),
        ("fourth decimal", lambda w, r: [Leg(w, D("1.0001")), Leg(r, D("-1.0001"))], InvalidAmount, "3 decimal"),
        ("float", lambda w, r: [Leg(w, 1.5), Leg(r, -1.5)], InvalidAmount, "Decimal"),
        ("same account twice", lambda w, r: [Leg(w, D("1.000")), Leg(w, D("-1.000"))], InvalidRequest, "twice"),
        (
            "unsaved account",
            lambda w, r: [Leg(Account(code="x", kind="asset"), D("1.000")), Leg(r, D("-1.000"))],
            InvalidRequest,
            "saved account",
        ),
        (
            "foreign currency account",
            lambda w, r: [Leg(Account(pk=w.pk, code="usd", currency="USD"), D("1.000")), Leg(r, D("-1.000"))],
            InvalidAmount,
            "not an OMR account",
        ),
    ]


@pytest.mark.parametrize(("name", "build", "error", "message"), _legs_refusals(), ids=[r[0] for r in _legs_refusals()])
def test_malformed_legs_are_refused_and_write_nothing(ledger_snapshot, name, build, error, message):
    w = wallet("10.000")
    revenue = system("revenue.parking_fine")
    before = ledger_snapshot()
    with pytest.raises(error, match=message):
        services.post(kind="fee_payment", legs=build(w, revenue), idempotency_key=key(), scope="t")
    assert ledger_snapshot() == before


@pytest.mark.parametrize(
    ("idempotency_key", "scope", "error"),
    [
        ("", "t", MissingIdempotencyKey),
        (None, "t", MissingIdempotencyKey),
        ("x" * 256, "t", InvalidRequest),
        ("tab\there", "t", InvalidRequest),
        ("ok", "", InvalidRequest),
    ],
)
def test_bad_keys_are_refused_and_write_nothing(ledger_snapshot, idempotency_key, scope, error):
    w = wallet("10.000")
    before = ledger_snapshot()
    with pytest.raises(error):
        services.post(
            kind="fee_payment", legs=fee_payment_legs(w, "1.000"), idempotency_key=idempotency_key, scope=scope
        )
    assert ledger_snapshot() == before


def test_unknown_entry_kind_is_refused(ledger_snapshot):
    w = wallet("10.000")
    before = ledger_snapshot()
    with pytest.raises(InvalidRequest, match="Unknown entry kind"):
        services.post(kind="gift", legs=fee_payment_legs(w, "1.000"), idempotency_key=key(), scope="t")
    assert ledger_snapshot() == before


def test_a_key_of_255_printable_characters_is_accepted():
    w = wallet("10.000")
    entry = services.post(kind="fee_payment", legs=fee_payment_legs(w, "1.000"), idempotency_key="k" * 255, scope="t")
    assert entry.replayed is False


def test_metadata_memo_and_actor_are_kept(django_user_model):
    clerk = django_user_model.objects.create_user("clerk")
    w = wallet("10.000")
    entry = services.post(
        kind="fee_payment",
        legs=fee_payment_legs(w, "1.000"),
        idempotency_key=key(),
        scope="t",
        actor=clerk,
        memo="Lease 2026/114",
        metadata={"bill_reference": "L-114"},
    )
    stored = Entry.objects.get(pk=entry.pk)
    assert (stored.memo, stored.metadata, stored.actor) == ("Lease 2026/114", {"bill_reference": "L-114"}, clerk)


class TestAccounts:
    def test_a_floor_needs_a_tracked_balance(self):
        with pytest.raises(InvalidRequest, match="needs a tracked balance"):
            services.open_account(code="x1", name="x", kind="liability", floor=D("0"))

    def test_a_floor_above_zero_is_refused(self):
        with pytest.raises(InvalidRequest, match="above zero"):
            services.open_account(code="x2", name="x", kind="liability", tracks_balance=True, floor=D("1"))

    def test_credit_limit_cannot_be_cut_below_what_is_already_used(self):
        fl = agent_float(credit_limit="50.000")
        services.post(
            kind="cash_topup",
            legs=[Leg(fl, D("30.000")), Leg(wallet(), D("-30.000"))],
            idempotency_key=key(),
            scope="t",
        )
        with pytest.raises(LimitExceeded):
            services.set_floor(account=fl, floor=D("-20.000"))
        assert services.set_floor(account=fl, floor=D("-30.000")).floor == D("-30.000")

    def test_floor_on_an_untracked_account_is_refused(self):
        with pytest.raises(InvalidRequest):
            services.set_floor(account=system("fee_income"), floor=D("0"))


def test_a_blocked_account_takes_no_debits_and_no_credits(ledger_snapshot):
    w = wallet("10.000")
    services.set_active(account=w, active=False)
    before = ledger_snapshot()
    with pytest.raises(AccountInactive):
        pay(w, "1.000")
    with pytest.raises(AccountInactive):
        top_up_legs = [Leg(system("bank_clearing"), D("1.000")), Leg(w, D("-1.000"))]
        services.post(kind="cash_topup", legs=top_up_legs, idempotency_key=key(), scope="t")
    assert ledger_snapshot() == before
    services.set_active(account=w, active=True)
    pay(w, "1.000")
    assert balance(w) == D("8.900")


def test_a_request_fingerprint_identifies_the_request_whatever_its_legs():
    w = wallet("10.000")
    k = key()
    first = services.post(
        kind="fee_payment",
        legs=fee_payment_legs(w, "1.000", "0.100"),
        idempotency_key=k,
        scope="t",
        request_fingerprint="pay L-1 1.000",
    )
    # the fee changed between the two calls: the same request still replays, it does not conflict
    again = services.post(
        kind="fee_payment",
        legs=fee_payment_legs(w, "1.000", "0.200"),
        idempotency_key=k,
        scope="t",
        request_fingerprint="pay L-1 1.000",
    )
    assert (again.pk, again.replayed) == (first.pk, True)
    with pytest.raises(IdempotencyConflict):
        services.post(
            kind="fee_payment",
            legs=fee_payment_legs(w, "1.000", "0.100"),
            idempotency_key=k,
            scope="t",
            request_fingerprint="pay L-1 2.000",
        )
    assert balance(w) == D("8.900")


def test_the_database_not_the_callers_object_says_which_accounts_have_a_floor(ledger_snapshot):
    w = wallet("1.000")
    liar = Account.objects.get(pk=w.pk)
    liar.tracks_balance = False  # a stale or careless object must not switch the floor off
    before = ledger_snapshot()
    with pytest.raises(InsufficientFunds):
        pay(liar, "5.000")
    assert ledger_snapshot() == before


def test_a_retry_after_the_money_is_spent_or_the_wallet_blocked_replays_it_rather_than_refusing():
    w = wallet("10.000")
    k = key()
    first = pay(w, "9.000", idempotency_key=k)
    # the wallet now holds 0.900: the retry must not be judged as a new payment
    again = pay(w, "9.000", idempotency_key=k)
    assert (again.pk, again.replayed) == (first.pk, True)
    services.set_active(account=w, active=False)
    assert pay(w, "9.000", idempotency_key=k).pk == first.pk
    assert balance(w) == D("0.900")


def test_a_refused_post_leaves_the_callers_transaction_usable_and_writes_nothing(ledger_snapshot):
    w = wallet("5.000")
    before = ledger_snapshot()
    with transaction.atomic():
        with pytest.raises(InsufficientFunds):
            pay(w, "6.000")
        assert ledger_snapshot() == before  # nothing of the refusal is in the transaction
        paid = pay(w, "1.000")
    assert Entry.objects.filter(pk=paid.pk).exists()
    assert balance(w) == D("3.900")


def test_a_post_returns_the_new_balances_of_the_accounts_it_moved():
    w = wallet("5.000")
    entry = pay(w, "1.000")
    assert entry.balances_after == {w.pk: D("3.900")}  # the hot revenue and fee accounts keep no balance
    assert entry.postings.get(account=w).balance_after == D("3.900")


def test_per_account_time_order_is_the_order_its_balance_changed_even_if_the_clock_steps_back():
    w, fresh = wallet("10.000"), wallet()
    first = pay(w, "1.000")
    an_hour_ago = first.created_at - dt.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=an_hour_ago):
        later = pay(w, "1.000")  # the clock went back: stamped just after the last posting instead
        back_dated = top_up(fresh, "1.000")  # no later posting on this wallet: the clock's time is kept
    assert later.created_at > first.created_at
    assert later.created_at - first.created_at < dt.timedelta(seconds=1)
    assert Entry.objects.get(pk=later.pk).created_at == later.created_at
    assert back_dated.created_at == an_hour_ago
    last = Posting.objects.filter(account=w).order_by("-created_at").first()
    assert last.balance_after == balance(w) == D("7.800")
