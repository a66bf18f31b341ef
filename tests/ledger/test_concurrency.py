import pytest
from tests.factories import wallet, pay
from ledger.models import Entry


@pytest.mark.django_db(transaction=True)
def test_a():
    w = wallet("10.000")
    pay(w, "1.000")


@pytest.mark.django_db(transaction=True)
def test_b():
    assert Entry.objects.count() == 0
