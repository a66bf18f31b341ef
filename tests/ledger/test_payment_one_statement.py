"""On PostgreSQL a fee payment's entry and row are one statement: outside a transaction it is its own
(autocommit), so the tests here run with real commits (``transaction=True``), not inside a test's block."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erial.errors import AlreadyPaid, InsufficientFunds
from ledger import payments
from ledger.chart import SystemAccount
from ledger.models import Entry, IdempotencyKey, Payment
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import open_wallet
from tests.factories import D, key
from tests.ledger.test_receipt_collisions import draws

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement payment is PostgreSQL's; SQLite books in a transaction")


def pay(wallet, bill: str, amount: str = "1.000", idem: str | None = None, *, read=None) -> Payment:
    service, quote = read or payments.service_for_payment("lease_renewal")
    return payments.pay_fee(
        wallet=wallet,
        service=service,
        bill_reference=bill,
        amount=D(amount),
        actor=None,
        idempotency_key=idem or key(),
        scope="test",
        fee_quote=quote,
    )


def test_outside_a_transaction_the_entry_and_the_payment_are_one_statement_and_both_commit():
    wallet = open_wallet("10.000")
    read = payments.service_for_payment("lease_renewal")  # the service and the fee: the view's one read
    payments.system_account(SystemAccount.FEE_INCOME)  # its id is looked up once per process
    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as queries:
        payment = pay(wallet, "L-1", read=read)
    assert len(queries) == 1, [q["sql"][:80] for q in queries]  # no BEGIN, no COMMIT, no second INSERT
    stored = Payment.objects.get(pk=payment.pk)
    assert (stored.entry_id, stored.created_at, stored.receipt_number) == (
        payment.entry.pk,
        payment.entry.created_at,
        payment.receipt_number,
    )
    assert (stored.amount, stored.fee) == (D("1.000"), D("0.100"))
    assert balance(wallet.account) == D("8.900")
    assert verify().ok


def test_a_retry_replays_the_stored_payment_outside_a_transaction():
    wallet = open_wallet("10.000")
    first = pay(wallet, "L-1", idem="same")
    again = pay(wallet, "L-1", idem="same")
    assert again.replayed and again.pk == first.pk
    assert Payment.objects.count() == Entry.objects.filter(kind="fee_payment").count() == 1
    assert balance(wallet.account) == D("8.900")


def test_a_bill_paid_twice_fails_the_whole_statement_entry_and_key_included():
    wallet = open_wallet("10.000")
    pay(wallet, "L-1")
    entries, keys = Entry.objects.count(), IdempotencyKey.objects.count()
    with pytest.raises(AlreadyPaid):
        pay(wallet, "L-1", idem="second")
    assert (Entry.objects.count(), IdempotencyKey.objects.count()) == (entries, keys)
    assert not IdempotencyKey.objects.filter(key="second").exists()
    assert balance(wallet.account) == D("8.900")
    assert pay(wallet, "L-2").bill_reference == "L-2"  # the connection is fine afterwards
    assert verify().ok


def test_a_taken_receipt_number_books_the_whole_statement_again_once():
    wallet = open_wallet("10.000")
    first = pay(wallet, "L-1")
    patch, draw = draws(first.receipt_number, first.receipt_number)
    with patch:
        second = pay(wallet, "L-2")
    assert draw.calls == 3 and second.receipt_number != first.receipt_number
    assert Payment.objects.count() == Entry.objects.filter(kind="fee_payment").count() == 2
    assert balance(wallet.account) == D("7.800")


def test_a_refusal_writes_nothing_and_leaves_the_connection_usable():
    wallet = open_wallet("1.000")
    entries = Entry.objects.count()
    with pytest.raises(InsufficientFunds):
        pay(wallet, "L-1", amount="1.000")  # 1.000 + 0.100 fee > 1.000
    assert Entry.objects.count() == entries and not Payment.objects.exists()
    assert balance(wallet.account) == D("1.000")
    assert pay(wallet, "L-2", amount="0.900").amount == D("0.900")
