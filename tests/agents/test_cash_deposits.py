"""An internal office banks its drawer's cash (design.md §4): drawer -> bank clearing, then the bank's statement
settles it (bank -> bank clearing), or flags it when the bank never shows it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from agents import deposits
from erial.errors import Forbidden, InsufficientFunds, InvalidAmount, InvalidRequest
from erial.roles import Role
from ledger.businessday import today
from ledger.selectors import balance
from ledger.verification import verify
from settlements.models import ExceptionKind, LineStatus, ReconException, StatementLine
from settlements.reconciliation import reconcile_day
from tests.agents.conftest import make_office, open_session, topup
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, system
from tests.settlements.test_reconciliation import statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_with_cash():
    office = make_office("internal")
    topup(open_session(office), open_wallet(), "50.000")
    return office


def deposit(office, amount="40.000", slip="SLIP-7781", key="d-1", actor=None):
    return deposits.record_cash_deposit(
        office=office,
        amount=D(amount),
        slip_reference=slip,
        actor=actor or make_user(Role.FINANCE),
        idempotency_key=key,
    )


def test_banked_cash_leaves_the_drawer_and_the_statement_settles_it(office_with_cash):
    office = office_with_cash
    entry = deposit(office)
    assert balance(office.cash_account) == D("10.000") and balance(system("bank_clearing")) == D("40.000")
    assert entry.reference == "SLIP-7781" and entry.kind == "cash_deposit"
    assert deposit(office).pk == entry.pk  # the same key again: the same entry, nothing more moves
    assert balance(office.cash_account) == D("10.000")
    day = today()
    statement("bank", day, [{"amount": "40.000", "reference": "SLIP-7781", "description": "CASH DEPOSIT"}])
    run = reconcile_day(day=day, source="bank")
    line = StatementLine.objects.get(reference="SLIP-7781")
    assert line.status == LineStatus.MATCHED and line.matched_entry_id == entry.pk and line.settled_entry_id
    assert balance(system("bank_clearing")) == D("0.000") and balance(system("bank")) == D("40.000")
    assert run.open_exceptions == 0 and run.settled_amount == D("40.000")
    reconcile_day(day=day, source="bank")  # a re-run settles nothing twice
    assert balance(system("bank")) == D("40.000")
    assert verify().ok


def test_a_deposit_the_bank_never_shows_is_flagged_for_finance(office_with_cash):
    entry = deposit(office_with_cash)
    reconcile_day(day=today(), source="bank")
    flagged = ReconException.objects.get(kind=ExceptionKind.MISSING_FROM_STATEMENT)
    assert flagged.entry_id == entry.pk
    assert balance(system("bank_clearing")) == D("40.000")


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"amount": "50.001"}, InsufficientFunds, "holds 50.000 OMR"),
        ({"amount": "0.000"}, InvalidAmount, "positive amount"),
        ({"amount": "1.0001"}, InvalidAmount, "positive amount"),
        ({"slip": "  "}, InvalidRequest, "slip's reference"),
        ({"slip": "X" * 65}, InvalidRequest, "slip's reference"),
    ],
)
def test_refusals_write_nothing(office_with_cash, ledger_snapshot, change, error, words):
    before = ledger_snapshot()
    with pytest.raises(error, match=words):
        deposit(office_with_cash, **change)
    assert ledger_snapshot() == before


def test_only_finance_records_and_only_for_an_internal_office(office_with_cash, ledger_snapshot):
    agent = make_office("external", float_="100.000")
    before = ledger_snapshot()
    for role in (Role.AGENT, Role.ADMIN, Role.CUSTOMER):
        with pytest.raises(Forbidden):
            deposit(office_with_cash, actor=make_user(role))
    with pytest.raises(InvalidRequest, match="external agent"):
        deposit(agent)
    assert ledger_snapshot() == before


def test_finance_records_it_from_the_office_list(office_with_cash, client):
    user = get_user_model().objects.create_user("fin-desk", password="pw-finance-123", is_staff=True)
    from erial.roles import grant

    grant(user, Role.FINANCE)
    client.force_login(user)
    form = {"action": "record_cash_deposit", "_selected_action": [office_with_cash.pk], "index": 0}
    page = client.post("/admin/agents/office/", {**form, "deposit_amount": "25.500", "slip_reference": "SL-1"})
    assert page.status_code == 302
    assert balance(office_with_cash.cash_account) == D("24.500")
    again = client.post("/admin/agents/office/", {**form, "deposit_amount": "25.500", "slip_reference": "SL-1"})
    assert again.status_code == 302 and balance(office_with_cash.cash_account) == D("24.500")  # sent twice: once
    refused = client.post(
        "/admin/agents/office/", {**form, "deposit_amount": "99.000", "slip_reference": "SL-2"}, follow=True
    )
    assert "holds 24.500 OMR" in refused.text and balance(office_with_cash.cash_account) == D("24.500")
