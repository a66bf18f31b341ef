"""Balances now and as of any instant; checkpoints keep hot-account reads short."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from ledger.models import BalanceCheckpoint
from ledger.sealing import seal_through
from ledger.selectors import balance
from ledger.verification import verify
from tests.factories import D, pay, system, top_up, wallet

pytestmark = pytest.mark.django_db


def at(moment: dt.datetime):
    """Post as if the clock said ``moment``."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_balance_as_of_any_instant_for_wallets_and_hot_accounts():
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    w = wallet()
    with at(three_days_ago):
        top_up(w, "10.000")
    with at(three_days_ago + dt.timedelta(hours=1)):
        pay(w, "2.000")
    pay(w, "1.000")
    fee = system("fee_income")
    assert balance(w, as_of=three_days_ago) == D("0.000")
    assert balance(w, as_of=three_days_ago + dt.timedelta(minutes=30)) == D("10.000")
    assert balance(w, as_of=three_days_ago + dt.timedelta(hours=2)) == D("7.900")
    assert balance(w) == D("6.800")
    assert balance(fee, as_of=three_days_ago + dt.timedelta(hours=2)) == D("0.100")
    assert balance(fee) == D("0.200")


def test_sealing_checkpoints_hot_accounts_and_reads_agree_with_the_postings():
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    w = wallet()
    with at(two_days_ago):
        top_up(w, "50.000")
        pay(w, "5.000", service="parking_fine")
    seal_through()
    revenue = system("revenue.parking_fine")
    checkpoint = BalanceCheckpoint.objects.get(account=revenue)
    assert checkpoint.balance == D("5.000")
    pay(w, "1.000", service="parking_fine")
    assert balance(revenue) == D("6.000")
    assert balance(revenue, as_of=checkpoint.until) == D("5.000")
    assert verify().ok
