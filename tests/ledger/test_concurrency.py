"""Money under concurrency, on real PostgreSQL with real parallel connections (one per thread).

- A wallet is never overdrawn, however many payments race for it.
- One idempotency key books one entry, however many times and how concurrently it is retried.
- Two accounts locked from both sides never deadlock; payments never queue on the hot revenue accounts.
- Concurrent partial reversals never add up to more than the original.
- A crash before commit leaves nothing behind, and the retry books once.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import OperationalError, connection, transaction

from erial.errors import IdempotencyConflict, InsufficientFunds, ReversalExceedsOriginal
from ledger import services
from ledger.chart import SystemAccount
from ledger.models import Entry, EntryKind, IdempotencyKey, Posting
from ledger.selectors import balance
from ledger.verification import verify
from tests.factories import D, key, pay, system, top_up, wallet
from tests.parallel import FINISH_TIMEOUT, START_TIMEOUT, errors_of, in_parallel


def hot_balances() -> tuple[Decimal, Decimal]:
    return balance(system(SystemAccount.REVENUE_LEASE_RENEWAL)), balance(system(SystemAccount.FEE_INCOME))


def transfer(source, destination, amount: str) -> Entry:
    """Move ``amount`` from one tracked account to another, listing the source's leg first."""
    return services.post(
        kind=EntryKind.ADJUSTMENT,
        legs=[services.Leg(source, D(amount)), services.Leg(destination, -D(amount))],
        idempotency_key=key(),
        scope="test",
    )


# --- 1. a wallet is never overdrawn ----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_payments_racing_for_a_wallet_that_affords_ten():
    # Given a wallet holding exactly ten payments of 0.900 + 0.100 fee
    customer = wallet("10.000")
    revenue_before, fees_before = hot_balances()

    # When fifty payments from it arrive at the same moment
    outcomes = in_parallel(50, lambda i: pay(customer, "0.900", "0.100"))

    # Then exactly ten are booked and forty are refused for insufficient funds
    assert sum(o.ok for o in outcomes) == 10
    assert errors_of(outcomes) == [InsufficientFunds] * 40
    # And the wallet is exactly empty, and never went below zero on the way
    assert balance(customer) == D("0.000")
    after_each = sorted(
        Posting.objects.filter(account=customer, entry__kind=EntryKind.FEE_PAYMENT).values_list(
            "balance_after", flat=True
        )
    )
    assert after_each == [D(f"{n}.000") for n in range(10)]
    assert Entry.objects.filter(kind=EntryKind.FEE_PAYMENT).count() == 10
    assert hot_balances() == (revenue_before + D("9.000"), fees_before + D("1.000"))
    report = verify()
    assert report.ok, report.findings


# --- 2. one key, one entry ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_retries_of_one_payment_book_it_once():
    # Given a wallet and one payment request, sent twenty times at once with the same key
    customer = wallet("10.000")
    payment_key = key()

    outcomes = in_parallel(20, lambda i: pay(customer, "1.000", "0.100", idempotency_key=payment_key))

    # Then every caller gets the same entry: one booked it, nineteen got it replayed
    assert errors_of(outcomes) == []
    assert len({o.value.pk for o in outcomes}) == 1
    assert sorted(o.value.replayed for o in outcomes) == [False] + [True] * 19
    assert IdempotencyKey.objects.filter(key=payment_key).count() == 1
    assert Entry.objects.filter(kind=EntryKind.FEE_PAYMENT).count() == 1
    assert balance(customer) == D("8.900")
    assert verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_key_reused_for_a_different_payment_is_refused_and_writes_nothing(ledger_snapshot):
    # Given a payment booked under a key
    customer = wallet("10.000")
    payment_key = key()
    booked = pay(customer, "1.000", idempotency_key=payment_key)
    before = ledger_snapshot()

    # When the same key comes with a different amount, then it is refused and nothing is written
    with pytest.raises(IdempotencyConflict):
        pay(customer, "2.000", idempotency_key=payment_key)
    assert ledger_snapshot() == before

    # And the original request still replays the original entry
    replay = pay(customer, "1.000", idempotency_key=payment_key)
    assert (replay.pk, replay.replayed) == (booked.pk, True)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_raced_by_two_different_payments_books_only_the_winner():
    # Given two different payments (1.000 and 2.000) sent at once, ten times each, under one key
    customer = wallet("10.000")
    payment_key = key()
    amounts = ["1.000", "2.000"] * 10

    outcomes = in_parallel(20, lambda i: pay(customer, amounts[i], "0.100", idempotency_key=payment_key))

    # Then one entry is booked; the winner's request gets it, the other request is refused every time
    winners = {amounts[i] for i, o in enumerate(outcomes) if o.ok}
    assert len(winners) == 1
    [winner] = winners
    assert len({o.value.pk for o in outcomes if o.ok}) == 1
    assert [type(o.error) for i, o in enumerate(outcomes) if amounts[i] != winner] == [IdempotencyConflict] * 10
    assert sum(o.ok for o in outcomes) == 10
    assert Entry.objects.filter(kind=EntryKind.FEE_PAYMENT).count() == 1
    assert balance(customer) == D("10.000") - D(winner) - D("0.100")
    assert verify().ok


# --- 3. no deadlocks, no queue on hot accounts -------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_transfers_both_ways_between_two_accounts_never_deadlock():
    # Given two tracked accounts with 100.000 each
    first, second = wallet("100.000"), wallet("100.000")
    rounds = 25

    # When eight workers move 1.000 at a time, half first->second, half second->first, each listing
    # its own source's leg first (so the legs come in opposite order)
    def work(i: int) -> int:
        source, destination = (first, second) if i % 2 else (second, first)
        for _ in range(rounds):
            transfer(source, destination, "1.000")
        return rounds

    outcomes = in_parallel(8, work)

    # Then every transfer went through (a deadlock would surface as an error here) and nothing is lost
    assert errors_of(outcomes) == []
    assert Entry.objects.filter(kind=EntryKind.ADJUSTMENT).count() == 8 * rounds
    assert (balance(first), balance(second)) == (D("100.000"), D("100.000"))
    assert verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_does_not_wait_for_another_payment_to_the_same_revenue_account():
    # Given two customers paying the same municipal service
    first_customer, second_customer = wallet("5.000"), wallet("5.000")
    first_booked, second_done, release = threading.Event(), threading.Event(), threading.Event()
    revenue_before, fees_before = hot_balances()

    def slow_first_payment() -> None:
        try:
            with transaction.atomic():
                pay(first_customer, "1.000", "0.100")
                first_booked.set()
                # Keep the transaction, and whatever it locked, open until told to finish.
                assert release.wait(timeout=FINISH_TIMEOUT)
        finally:
            connection.close()

    def second_payment() -> None:
        try:
            assert first_booked.wait(timeout=START_TIMEOUT)
            pay(second_customer, "2.000", "0.100")
            second_done.set()
        finally:
            connection.close()

    first = threading.Thread(target=slow_first_payment, daemon=True)
    second = threading.Thread(target=second_payment, daemon=True)
    first.start()
    second.start()
    try:
        # When the first payment has credited revenue and fee income but not yet committed
        assert first_booked.wait(timeout=START_TIMEOUT)
        # Then the second payment, crediting the same two accounts, completes meanwhile
        assert second_done.wait(timeout=5), "the second payment waited on the first: a hot account is locked"
        assert first.is_alive()
    finally:
        release.set()
        first.join(timeout=FINISH_TIMEOUT)
        second.join(timeout=FINISH_TIMEOUT)

    assert not first.is_alive() and not second.is_alive()
    assert (balance(first_customer), balance(second_customer)) == (D("3.900"), D("2.900"))
    assert hot_balances() == (revenue_before + D("3.000"), fees_before + D("0.200"))
    assert verify().ok


# --- 4. partial reversals never exceed the original ----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_partial_reversals_never_exceed_the_original():
    # Given a top-up of 10.000
    customer = wallet()
    original = top_up(customer, "10.000")

    # When ten clerks each reverse 3.000 of it at the same moment
    outcomes = in_parallel(
        10,
        lambda i: services.reverse(
            entry=original, amount=D("3.000"), reason=f"clerk {i}: partial refund", idempotency_key=key()
        ),
    )

    # Then three reversals fit (9.000) and the other seven are refused
    assert sum(o.ok for o in outcomes) == 3
    assert errors_of(outcomes) == [ReversalExceedsOriginal] * 7
    assert Entry.objects.filter(reverses=original).count() == 3
    assert balance(customer) == D("1.000")
    report = verify()
    assert report.ok, report.findings


# --- 5. a crash before commit leaves nothing -----------------------------------------------------


#: A real transaction committed to PostgreSQL, and a savepoint inside the test's transaction (both backends).
CRASH_MODES = [
    pytest.param("committed", marks=[pytest.mark.postgres, pytest.mark.django_db(transaction=True)]),
    pytest.param("savepoint", marks=pytest.mark.django_db),
]


class Crash(Exception):
    """The process dies after the ledger write but before the caller's transaction commits."""


@pytest.mark.parametrize("mode", CRASH_MODES)
def test_a_payment_whose_transaction_crashes_leaves_nothing_and_the_retry_books_once(mode, ledger_snapshot):
    # Given a wallet and a payment request with its key
    customer = wallet("10.000")
    payment_key = key()
    before = ledger_snapshot()

    # When the payment is posted inside a larger transaction that then fails
    with pytest.raises(Crash), transaction.atomic():
        pay(customer, "2.000", idempotency_key=payment_key)
        raise Crash

    # Then nothing was kept: no entry, no claimed key, the balance untouched
    assert ledger_snapshot() == before
    assert not IdempotencyKey.objects.filter(key=payment_key).exists()
    assert balance(customer) == D("10.000")

    # And the client's retry with the same key books it once; a second retry replays it
    retried = pay(customer, "2.000", idempotency_key=payment_key)
    again = pay(customer, "2.000", idempotency_key=payment_key)
    assert (retried.replayed, again.replayed, again.pk) == (False, True, retried.pk)
    assert balance(customer) == D("7.900")
    assert verify().ok


def _lose_connection(mode: str) -> None:
    """Cut this session's database connection, as a network failure or a server crash would."""
    if mode == "savepoint":  # inside the test's own transaction: the driver's error is all we can show
        raise OperationalError("server closed the connection unexpectedly")
    pid = connection.connection.info.backend_pid

    def terminate() -> None:
        from django.db import connection as other  # a thread has its own connection

        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        other.close()

    killer = threading.Thread(target=terminate)
    killer.start()
    killer.join(FINISH_TIMEOUT)


@pytest.mark.parametrize("mode", CRASH_MODES)
def test_a_connection_lost_after_the_ledger_write_leaves_nothing(mode, ledger_snapshot):
    # Given a wallet, and a payment whose connection is lost after the ledger write, before its COMMIT
    customer = wallet("10.000")
    payment_key = key()
    before = ledger_snapshot()
    real_stored = services._stored

    def write_then_drop(*args, **kwargs):
        stored = real_stored(*args, **kwargs)  # the write was sent and answered
        _lose_connection(mode)
        return stored

    # When the payment is posted in the caller's transaction, which goes on to its next statement
    with (
        mock.patch("ledger.services._stored", write_then_drop),
        pytest.raises(OperationalError),
        transaction.atomic(),
    ):
        pay(customer, "2.000", idempotency_key=payment_key)
        Entry.objects.count()

    # Then none of what was sent survived, and the retry books it once
    assert ledger_snapshot() == before
    retried = pay(customer, "2.000", idempotency_key=payment_key)
    assert retried.replayed is False
    assert balance(customer) == D("7.900")
    assert Entry.objects.filter(kind=EntryKind.FEE_PAYMENT).count() == 1
    assert verify().ok
