import pytest

from ledger.selectors import balance
from tests.factories import D, pay, wallet


@pytest.mark.django_db
def test_fee_payment_moves_amount_and_fee():
    w = wallet("10.000")
    pay(w, "2.000")
    assert balance(w) == D("7.900")


@pytest.mark.django_db(transaction=True)
def test_transactional_sees_chart():
    w = wallet("1.000")
    assert balance(w) == D("1.000")


@pytest.mark.django_db
def test_after_transactional_sees_chart():
    w = wallet("3.000")
    assert balance(w) == D("3.000")
