"""The management commands and pages a person uses first: seed_demo, verify_ledger, seal_ledger, home."""

import datetime as dt
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ledger.models import AccountBalance, DaySeal, Entry, EntryKind, IdempotencyKey
from ledger.tasks import seal_previous_day
from ledger.verification import verify
from tests.factories import pay, wallet

pytestmark = pytest.mark.django_db


def test_seed_demo_is_safe_to_run_twice_and_covers_every_kind_so_far(capsys):
    call_command("seed_demo")
    first = (Entry.objects.count(), sorted(AccountBalance.objects.values_list("account_id", "balance")))
    call_command("seed_demo")
    assert (Entry.objects.count(), sorted(AccountBalance.objects.values_list("account_id", "balance"))) == first
    kinds = set(Entry.objects.values_list("kind", flat=True))
    assert kinds >= {
        EntryKind.CASH_TOPUP,
        EntryKind.ONLINE_TOPUP,
        EntryKind.FEE_PAYMENT,
        EntryKind.REFUND,
        EntryKind.REVERSAL,
        EntryKind.SETTLEMENT,
        EntryKind.FLOAT_DEPOSIT,
        EntryKind.CASH_DEPOSIT,
    }
    assert IdempotencyKey.objects.filter(entry__isnull=False).count() == first[0]  # one key per entry
    assert verify().ok
    assert "admin / erial-demo" in capsys.readouterr().out


def test_verify_ledger_reports_every_check_and_exits_zero_when_the_books_hold(capsys):
    call_command("seed_demo")
    call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "ok   cached balances equal the postings" in out
    assert "The books balance." in out


def test_verify_ledger_fails_with_the_place_when_a_cached_balance_drifts(capsys):
    call_command("seed_demo")
    AccountBalance.objects.filter(account__code="CASH-MCT").update(balance="999.000")
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    out = capsys.readouterr().out
    assert "FAIL cached balances equal the postings" in out
    assert "account CASH-MCT: cached balance 999.000 but postings give" in out


def test_seal_ledger_with_nothing_finished_seals_nothing(capsys):
    call_command("seed_demo")
    call_command("seal_ledger")
    assert "nothing to seal" in capsys.readouterr().out


def test_home_page_shows_the_chart_with_balances_to_staff_only(client):
    call_command("seed_demo")
    page = client.get("/")
    assert page.status_code == 200
    assert "e-Rial" in page.text and "CASH-MCT" not in page.text
    assert all(link in page.text for link in ('href="/portal/"', 'href="/counter/"', 'href="/api/docs/"'))
    client.login(username="finance", password="erial-demo")
    page = client.get("/")
    assert "CASH-MCT" in page.text and "fee_income" in page.text


def test_finance_can_read_the_ledger_in_the_back_office_but_not_change_it(client):
    call_command("seed_demo")
    assert client.login(username="finance", password="erial-demo")
    assert client.get("/admin/ledger/entry/").status_code == 200
    entry = Entry.objects.filter(kind=EntryKind.FEE_PAYMENT).first()
    page = client.get(f"/admin/ledger/entry/{entry.pk}/change/")
    assert page.status_code == 200 and "Save" not in page.text
    assert client.get("/admin/ledger/entry/add/").status_code == 403


def test_nightly_seal_task_seals_finished_days(settings):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - dt.timedelta(days=2)):
        pay(wallet("5.000"), "1.000")
    assert settings.CELERY_TASK_ALWAYS_EAGER  # no broker configured: the embedded default
    sealed = seal_previous_day.delay().get()
    assert len(sealed) == 2  # the day of the payment and yesterday (an empty day keeps the chain whole)
    assert DaySeal.objects.count() == 2 and seal_previous_day.delay().get() == []
