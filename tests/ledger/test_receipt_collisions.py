"""A receipt number drawn at random may already be taken: the payment or refund is then booked with a new one,
never refused as "already paid" and never a server error."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest

from ledger import payments
from ledger.models import Entry, Payment, Refund, Service
from ledger.receipts import INSERT_ATTEMPTS, new_receipt_number
from ledger.selectors import balance
from tests.api.conftest import open_wallet
from tests.factories import D, key

pytestmark = pytest.mark.django_db


def draws(*numbers: str):
    """Patch the receipt-number generator to hand out ``numbers`` first, then fresh ones; the patched
    callable counts its calls (``.calls``), so a test can see that the collisions really happened."""
    queue = list(numbers)

    def draw() -> str:
        draw.calls += 1
        return queue.pop(0) if queue else new_receipt_number()

    draw.calls = 0
    return mock.patch("ledger.receipts.new_receipt_number", draw), draw


def pay(wallet, bill: str, amount: str = "1.000") -> Payment:
    return payments.pay_fee(
        wallet=wallet,
        service=Service.objects.get(code="lease_renewal"),
        bill_reference=bill,
        amount=D(amount),
        actor=None,
        idempotency_key=key(),
        scope="test",
    )


def test_a_payment_whose_receipt_number_is_taken_is_booked_once_with_a_new_number():
    wallet = open_wallet("10.000")
    first = pay(wallet, "L-1")
    patch, draw = draws(first.receipt_number, first.receipt_number)
    with patch:
        second = pay(wallet, "L-2")
    assert draw.calls == 3
    assert second.receipt_number != first.receipt_number
    assert Payment.objects.filter(bill_reference="L-2").count() == 1
    assert Entry.objects.filter(kind="fee_payment").count() == 2  # one entry each: only the INSERT was retried
    assert balance(wallet.account) == D("7.800")


def test_a_bill_paid_twice_is_still_already_paid_and_numbers_that_never_come_free_are_an_error():
    wallet = open_wallet("10.000")
    first = pay(wallet, "L-1")
    from erial.errors import AlreadyPaid

    with pytest.raises(AlreadyPaid):
        pay(wallet, "L-1")
    patch, draw = draws(*[first.receipt_number] * INSERT_ATTEMPTS)
    with patch, pytest.raises(RuntimeError, match="receipt number"):
        pay(wallet, "L-3")
    assert draw.calls == INSERT_ATTEMPTS
    assert not Payment.objects.filter(bill_reference="L-3").exists()
    assert balance(wallet.account) == D("8.900")


def test_a_refund_whose_receipt_number_is_taken_gets_a_new_one():
    wallet = open_wallet("10.000")
    payment = pay(wallet, "L-1", "2.000")
    taken = Payment.objects.get(pk=payment.pk).receipt_number
    earlier = payments.refund_payment(
        payment=payment, amount=Decimal("0.500"), reason="r", actor=None, idempotency_key=key(), scope="t"
    )
    patch, draw = draws(earlier.receipt_number)
    with patch:
        refund = payments.refund_payment(
            payment=payment, amount=Decimal("0.500"), reason="r2", actor=None, idempotency_key=key(), scope="t"
        )
    assert draw.calls == 2
    assert refund.receipt_number not in (earlier.receipt_number, taken)
    assert Refund.objects.filter(payment=payment).count() == 2
    assert balance(wallet.account) == D("8.900")
