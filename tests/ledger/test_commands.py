"""The management commands and pages a person uses first: seed_demo, verify_ledger, seal_ledger, create_api_user,
home."""

import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agents.models import Cashier, CashTopup, CommissionRule, Limit
from erial.roles import Role, has_role
from ledger.businessday import today
from ledger.models import AccountBalance, DaySeal, Entry, EntryKind, Holder, IdempotencyKey
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
from tests.agents.conftest import make_office
from tests.api.conftest import open_wallet
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


# --- create_api_user (api.md: ROLE is customer, agent, finance, service or admin; the token alone on the last line)


def create_api_user(*args: str) -> list[str]:
    """Run the command as a script would; its stdout, line by line."""
    out = io.StringIO()
    call_command("create_api_user", *args, stdout=out)
    return out.getvalue().splitlines()


def api_state() -> dict[str, list]:
    """What the command may create: users, their roles, tokens, cashiers and wallet links."""
    return {
        "users": sorted(get_user_model().objects.values_list("username", "is_staff", "is_superuser")),
        "roles": sorted(get_user_model().groups.through.objects.values_list("user_id", "group_id")),
        "tokens": sorted(Token.objects.values_list("user_id", "key")),
        "cashiers": sorted(Cashier.objects.values_list("user_id", "office_id", "is_supervisor")),
        "holders": sorted(Holder.objects.values_list("pk", "user_id")),
    }


@pytest.mark.parametrize("role", list(Role))
def test_create_api_user_grants_the_role_and_prints_a_working_token_alone_on_the_last_line(role):
    office = make_office("internal")
    extra = ["--office", office.code] if role == Role.AGENT else []
    lines = create_api_user(f"api-{role.value}", "--role", role.value, *extra)
    user = get_user_model().objects.get(username=f"api-{role.value}")
    assert has_role(user, role)
    assert lines[-1] == Token.objects.get(user=user).key and re.fullmatch(r"[0-9a-f]{40}", lines[-1])
    assert f"api-{role.value}" not in lines[-1] and len(lines) == 2, lines  # a message, then the token alone
    assert not user.has_usable_password()  # an API login: the token, no password
    assert user.is_superuser == user.is_staff == (role == Role.ADMIN)
    if role == Role.AGENT:
        assert Cashier.objects.get(user=user).office == office
    me = APIClient(HTTP_AUTHORIZATION=f"Token {lines[-1]}").get("/api/v1/services/")
    assert me.status_code == 200, me.content


def test_create_api_user_links_a_customer_to_their_wallet():
    wallet = open_wallet("5.000")
    token = create_api_user("salim", "--role", "customer", "--account", wallet.number)[-1]
    answer = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get(f"/api/v1/accounts/{wallet.number}/")
    assert answer.status_code == 200 and answer.json()["balance"] == "5.000"


@pytest.mark.parametrize(
    "args, says",
    [
        (["bob", "--role", "superhero"], "invalid choice: 'superhero'"),  # an unknown role, the roles listed
        (["bob", "--role", "Finance"], "invalid choice"),
        (["bob"], "the following arguments are required: --role"),
        (["--role", "finance"], "the following arguments are required: username"),
        (["bob", "--role"], "expected one argument"),
        (["bob", "--role", "agent"], "give --office CODE"),
        (["bob", "--role", "agent", "--office", "NO-SUCH"], "No office 'NO-SUCH'"),
        (["bob", "--role", "finance", "--office", "{office}"], "use it with --role agent"),
        (["bob", "--role", "finance", "--account", "{wallet}"], "use it with --role customer"),
        (["bob", "--role", "customer", "--account", "99999999"], "99999999"),
        (["bob", "--role", "customer", "--account", "{taken}"], "already belongs to another login"),
    ],
)
def test_create_api_user_refuses_clearly_and_creates_nothing(args, says):
    office = make_office("internal")
    wallet = open_wallet()
    taken = open_wallet(user=get_user_model().objects.create_user("someone-else"))
    args = [a.format(office=office.code, wallet=wallet.number, taken=taken.number) for a in args]
    before = api_state()
    with pytest.raises(CommandError, match=re.escape(says)):
        create_api_user(*args)
    assert api_state() == before
    assert not get_user_model().objects.filter(username="bob").exists()


def test_create_api_user_lists_the_roles_when_the_role_is_unknown():
    with pytest.raises(CommandError) as refused:
        create_api_user("bob", "--role", "superhero")
    assert all(role.value in str(refused.value) for role in Role)


def test_create_api_user_refuses_an_unknown_role_from_the_shell_with_nothing_on_stdout():
    """As a script runs it (``TOKEN=$(... | tail -n 1)``): a non-zero exit and the reason on stderr, never a line
    on stdout that could be taken for a token."""
    done = subprocess.run(
        [sys.executable, "manage.py", "create_api_user", "bob", "--role", "superhero"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and done.stdout == ""
    assert "invalid choice: 'superhero'" in done.stderr and "finance" in done.stderr


@pytest.mark.parametrize("role", list(Role))
def test_create_api_user_run_twice_updates_the_same_user_and_prints_the_same_token(role):
    """The command creates or updates (its help): a second run is how one gets the token again, and it
    changes nothing else, not even a supervisor flag set since."""
    office = make_office("internal")
    wallet = open_wallet()
    extra = {Role.AGENT: ["--office", office.code], Role.CUSTOMER: ["--account", wallet.number]}.get(role, [])
    first = create_api_user("twice", "--role", role.value, *extra)
    assert first[0].startswith("Created twice")
    Cashier.objects.filter(user__username="twice").update(is_supervisor=True)  # promoted in the back office
    before = api_state()
    second = create_api_user("twice", "--role", role.value, *extra)
    assert second[0].startswith("Updated twice") and second[-1] == first[-1]
    assert api_state() == before


def test_create_api_user_will_not_move_a_cashier_to_another_office():
    first, other = make_office("internal"), make_office("internal")
    token = create_api_user("teller", "--role", "agent", "--office", first.code)[-1]
    before = api_state()
    with pytest.raises(CommandError, match=f"already a cashier of office {first.code}"):
        create_api_user("teller", "--role", "agent", "--office", other.code)
    assert api_state() == before and Token.objects.get(user__username="teller").key == token
