"""The management commands and pages a person uses first: seed_demo, verify_ledger, seal_ledger, home."""

import datetime as dt
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents.models import CashTopup, CommissionRule, Limit
from erial.roles import Role, has_role
from ledger.businessday import today
from ledger.models import AccountBalance, DaySeal, Entry, EntryKind, IdempotencyKey
from ledger.sealing import seal_through
from ledger.tasks import seal_previous_day
from ledger.verification import verify
from reports.dashboard import float_positions
from reports.trial_balance import trial_balance
from settlements.models import (
    ExceptionStatus,
    GatewayBatch,
    LineStatus,
    ReconciliationRun,
    ReconException,
    Resolution,
    ResolutionStatus,
    StatementFile,
    StatementLine,
)
from tests.factories import pay, wallet
from topups.models import OnlineTopup, TopupStatus

pytestmark = pytest.mark.django_db


def demo_state() -> dict[str, list]:
    """Everything seed_demo makes, as comparable rows: a second run must leave all of it as it was."""
    return {
        "entries": sorted(Entry.objects.values_list("id", "business_day")),
        "balances": sorted(AccountBalance.objects.values_list("account_id", "balance")),
        "users": sorted(get_user_model().objects.values_list("username", "password")),
        "online top-ups": sorted(OnlineTopup.objects.values_list("reference", "status")),
        "cash top-ups": sorted(CashTopup.objects.values_list("id", "amount")),
        "rules": sorted([*Limit.objects.values_list("id"), *CommissionRule.objects.values_list("id")]),
        "files": sorted(StatementFile.objects.values_list("sha256", "line_count")),
        "lines": sorted(StatementLine.objects.values_list("id", "status", "matched_entry_id", "settled_entry_id")),
        "runs": sorted(ReconciliationRun.objects.values_list("id", "status", "attempts", "matched", "settled_amount")),
        "exceptions": sorted(ReconException.objects.values_list("id", "status")),
        "resolutions": sorted(Resolution.objects.values_list("id", "status")),
        "seals": sorted(DaySeal.objects.values_list("business_day", "digest")),
    }


def test_seed_demo_is_safe_to_run_twice_and_covers_every_kind_so_far(capsys):
    call_command("seed_demo")
    first = demo_state()
    call_command("seed_demo")
    assert demo_state() == first
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
    assert IdempotencyKey.objects.filter(entry__isnull=False).count() == len(first["entries"])  # one key each
    assert verify().ok
    assert "admin / erial-demo" in capsys.readouterr().out


def test_seed_demo_gives_the_finance_screens_a_reconciled_and_sealed_yesterday(capsys):
    call_command("seed_demo")
    yesterday = today() - dt.timedelta(days=1)
    # Online top-ups credited by the partners' signed callbacks, booked yesterday.
    online = OnlineTopup.objects.filter(entry__business_day=yesterday, status=TopupStatus.COMPLETED)
    assert sorted(online.values_list("channel", flat=True)) == ["bank", "card"]
    assert all(topup.entry.metadata["partner_txn_id"] == topup.partner_txn_id for topup in online)
    # Yesterday reconciled from imported statement files: matched lines, both sources, open exceptions.
    runs = {run.source: run for run in ReconciliationRun.objects.filter(business_day=yesterday)}
    assert {source: run.status for source, run in runs.items()} == {"bank": "completed", "gateway": "completed"}
    assert runs["bank"].matched >= 1 and runs["gateway"].matched >= 1
    assert StatementFile.objects.filter(statements__lines__booking_date=yesterday).distinct().count() == 2
    bank_top_up = online.get(channel="bank")
    assert StatementLine.objects.get(source="bank", matched_entry=bank_top_up.entry).settled_entry is not None
    gateway_batch = GatewayBatch.objects.get(batch_date=yesterday)
    assert gateway_batch.settlement_entry is not None and gateway_batch.bank_line.status == LineStatus.MATCHED
    queue = ReconException.objects.filter(business_day=yesterday)
    assert queue.filter(status=ExceptionStatus.OPEN).exists()
    proposed = Resolution.objects.get(exception__in=queue, status=ResolutionStatus.PROPOSED)
    assert proposed.proposed_by.username == "finance"  # finance2 is the demo's checker
    assert has_role(get_user_model().objects.get(username="finance2"), Role.FINANCE)
    # Yesterday sealed: the trial balance of yesterday takes its ledger totals from the seal.
    seal = DaySeal.objects.get(business_day=yesterday)
    assert seal.entry_count == Entry.objects.filter(business_day=yesterday).count() > 0
    assert not Entry.objects.filter(business_day__lt=yesterday).exists()
    report = trial_balance(yesterday)
    assert report.balanced and report.covers_ledger and report.ledger.entries == seal.entry_count
    # An external agent that has used most of its credit is flagged on the dashboard.
    assert {p.code: p.near_limit for p in float_positions()} == {"AMRT": True, "SEEB": False}
    assert verify().ok
    out = capsys.readouterr().out
    assert f"Yesterday ({yesterday})" in out and f"Sealed: {yesterday}" in out


def test_seed_demo_run_again_the_next_day_moves_no_money_and_seals_the_first_day():
    call_command("seed_demo")
    before = demo_state()
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(days=1)):
        call_command("seed_demo")
    after = demo_state()
    assert after["entries"] == before["entries"] and after["balances"] == before["balances"]
    assert after["runs"] == before["runs"] and after["online top-ups"] == before["online top-ups"]
    assert [day for day, _ in after["seals"]] == [today() - dt.timedelta(days=1), today()]
    assert verify().ok


def test_seed_demo_leaves_an_already_sealed_yesterday_alone(capsys):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - dt.timedelta(days=2)):
        pay(wallet("5.000"), "1.000")
    sealed = seal_through()
    assert sealed[-1].business_day == today() - dt.timedelta(days=1)
    call_command("seed_demo")
    assert not OnlineTopup.objects.exists() and not ReconciliationRun.objects.exists()
    assert not Entry.objects.filter(business_day=today() - dt.timedelta(days=1)).exists()
    assert verify().ok  # no entry slipped into a sealed day
    assert "Yesterday was sealed before this demo" in capsys.readouterr().out


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


def test_seal_ledger_after_seed_demo_has_nothing_left_to_seal(capsys):
    call_command("seed_demo")
    assert DaySeal.objects.filter(business_day=today() - dt.timedelta(days=1)).exists()
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


def test_seed_demo_prints_a_working_activation_code_for_the_wallet_opened_at_the_counter(capsys):
    import re

    from ledger import portal_access

    call_command("seed_demo")
    call_command("seed_demo")  # a new code each run: the one printed last is the one that works
    out = capsys.readouterr().out
    printed = re.findall(r"wallet (\d{8}), civil ID 34567890, activation code ([A-Z0-9-]+)", out)
    assert len(printed) == 2, out
    (number, old), (same_number, code) = printed
    assert number == same_number and old != code
    user = portal_access.activate(
        wallet_number=number, national_id="34567890", code=code, username="khalid", password="A-long-pass-42!"
    )
    assert user.holder.wallet.number == number
    call_command("seed_demo")
    assert "activation code" not in capsys.readouterr().out  # activated: no code to hand out any more
