"""Cash top-ups kept cheap: the office's day total row, terms read fresh in one query, running totals only
when a limit needs them, receipt-number collisions drawn again, the API's one-query session lookup."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents import selectors, services
from agents.models import CashTopup, Limit, OfficeDayTotal
from erial.errors import LimitExceeded
from erial.roles import Role
from ledger.businessday import business_day_of
from ledger.receipts import new_receipt_number
from ledger.selectors import balance
from ledger.verification import verify
from tests.agents.conftest import make_cashier, make_office, open_session, set_commission, set_limit, topup
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import D

pytestmark = pytest.mark.django_db


def day_total(office) -> Decimal | None:
    row = OfficeDayTotal.objects.filter(office=office, business_day=business_day_of(timezone.now())).first()
    return None if row is None else row.amount


def void(t, key: str = "v"):
    return services.void_cash_topup(topup=t, actor=t.session.cashier.user, reason="Wrong amount", idempotency_key=key)


# --- the office's day total -------------------------------------------------------------------------


def test_the_day_total_counts_top_ups_and_gives_back_voids(external_office):
    session = open_session(external_office)
    wallet = open_wallet()
    assert day_total(external_office) is None
    first = topup(session, wallet, "10.250")
    topup(session, wallet, "4.125")
    assert day_total(external_office) == D("14.375")
    void(first)
    assert day_total(external_office) == D("4.125")
    kept = CashTopup.objects.filter(office=external_office, void_entry__isnull=True)
    assert sum(t.amount for t in kept) == day_total(external_office)


def test_a_daily_limit_set_during_the_day_counts_the_top_ups_before_it(external_office, ledger_snapshot):
    # Given 25.000 taken at the office this morning, with no daily limit in force
    session = open_session(external_office)
    wallet = open_wallet()
    topup(session, wallet, "15.000")
    ten = topup(session, wallet, "10.000")
    # When a daily limit of 30.000 comes into force
    set_limit("office_daily", "30.000", office=external_office)
    before = ledger_snapshot()
    # Then only 5.000 is left today
    with pytest.raises(LimitExceeded) as refused:
        topup(session, wallet, "5.001")
    assert (refused.value.extra["limit"], refused.value.extra["remaining"]) == ("office_daily", "5.000")
    assert ledger_snapshot() == before
    assert day_total(external_office) == D("25.000")  # the refused top-up left the total as it was
    # And a void gives its amount back to the day
    void(ten)
    topup(session, wallet, "15.000")
    assert day_total(external_office) == D("30.000")


def test_the_day_total_of_another_office_or_day_does_not_count(external_office):
    set_limit("office_daily", "20.000")
    other = make_office("external", float_="100.000")
    OfficeDayTotal.objects.create(
        office=external_office, business_day=business_day_of(timezone.now()) - dt.timedelta(days=1), amount=D("20")
    )
    topup(open_session(other), open_wallet(), "20.000")
    assert topup(open_session(external_office), open_wallet(), "20.000").amount == D("20.000")


def test_the_migration_fills_the_day_totals_from_the_top_ups_kept(external_office, internal_office):
    wallet = open_wallet()
    outside, inside = open_session(external_office), open_session(internal_office)
    topup(outside, wallet, "7.000")
    void(topup(outside, wallet, "2.000"))
    topup(inside, wallet, "1.500")
    topup(inside, wallet, "0.250")
    expected = {(row.office_id, row.business_day, row.amount) for row in OfficeDayTotal.objects.all()}
    OfficeDayTotal.objects.all().delete()
    importlib.import_module("agents.migrations.0002_office_day_total").backfill(apps, None)
    assert {(row.office_id, row.business_day, row.amount) for row in OfficeDayTotal.objects.all()} == expected
    assert {amount for _, _, amount in expected} == {D("7.000"), D("1.750")}


# --- terms read fresh, in one query, before the transaction -----------------------------------------


def test_a_new_limit_or_commission_rule_applies_to_the_next_top_up(external_office):
    session = open_session(external_office)
    wallet = open_wallet()
    assert topup(session, wallet, "50.000").commission == D("0.000")
    set_limit("per_transaction", "40.000")
    with pytest.raises(LimitExceeded):
        topup(session, wallet, "50.000")
    set_commission("flat", "0.250")
    assert topup(session, wallet, "40.000").commission == D("0.250")


def test_the_office_rule_beats_a_newer_general_one_and_future_rules_wait(external_office):
    now = timezone.now()
    Limit.objects.create(
        kind="per_transaction", amount=D("30"), office=external_office, effective_from=now - dt.timedelta(days=9)
    )
    Limit.objects.create(kind="per_transaction", amount=D("10"), effective_from=now - dt.timedelta(days=1))
    Limit.objects.create(
        kind="per_transaction", amount=D("5"), office=external_office, effective_from=now + dt.timedelta(days=1)
    )
    Limit.objects.create(kind="wallet_daily", amount=D("99"), effective_from=now - dt.timedelta(days=2))
    Limit.objects.create(kind="wallet_daily", amount=D("98"), effective_from=now - dt.timedelta(days=1))
    terms = selectors.terms_in_force(external_office, now)
    assert terms.limits == {"per_transaction": D("30.000"), "wallet_daily": D("98.000")}
    assert terms.office_status == "active" and terms.commission is None
    assert topup(open_session(external_office), open_wallet(), "30.000").amount == D("30.000")


def test_internal_offices_earn_no_commission_whatever_the_rule(internal_office):
    set_commission("flat", "0.500")
    t = topup(open_session(internal_office), open_wallet(), "10.000")
    assert t.commission == D("0.000")
    assert verify().ok


def statements(session, wallet, amount: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        topup(session, wallet, amount)
    return [query["sql"] for query in queries.captured_queries]


def test_running_totals_are_read_only_when_a_limit_needs_them(external_office, monkeypatch):
    session = open_session(external_office)
    wallet = open_wallet()
    quiet = statements(session, wallet, "1.000")
    assert not any("SUM(" in sql for sql in quiet)
    set_limit("wallet_daily", "100.000")
    set_limit("wallet_max_balance", "100.000")
    set_limit("office_daily", "100.000")
    set_limit("per_transaction", "100.000")
    set_commission("flat", "0.100")

    def no_second_read(account, **kwargs):
        raise AssertionError(f"{account} read again: post() already returned its new balance")

    monkeypatch.setattr(services, "balance", no_second_read)
    busy = statements(session, wallet, "1.000")
    assert sum("SUM(" in sql for sql in busy) == 1
    # every limit, the commission rule and the session's hold: one read (a function call on PostgreSQL)
    assert sum("agents_limit" in sql or "agents_terms(" in sql for sql in busy) == 1


@pytest.mark.postgres
def test_the_terms_function_gives_the_rows_of_the_plain_query(external_office):
    from django.db import connection
    from django.utils import timezone

    from agents import selectors, terms_function

    session = open_session(external_office)
    set_limit("wallet_daily", "100.000")
    set_limit("office_daily", "70.000", office=external_office)
    set_limit("office_daily", "90.000")
    set_commission("flat", "0.100")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    office = external_office.pk
    with connection.cursor() as cursor:
        cursor.execute(terms_function.CALL_SQL, [office, now, session.pk])
        by_function = sorted(cursor.fetchall(), key=repr)
        cursor.execute(
            selectors._TERMS_SQL + selectors._session_row_sql(), [office, now, office, now, office, session.pk]
        )
        by_query = sorted(cursor.fetchall(), key=repr)
    assert by_function == by_query
    assert ("session", "open", None, None, None, None) in by_function


def test_the_wallet_max_balance_uses_the_balance_post_left(external_office, ledger_snapshot):
    set_limit("wallet_max_balance", "30.000")
    session = open_session(external_office)
    wallet = open_wallet()
    topup(session, wallet, "29.000")
    before = ledger_snapshot()
    with pytest.raises(LimitExceeded) as refused:
        topup(session, wallet, "1.001")
    assert refused.value.extra["remaining"] == "1.000"
    assert ledger_snapshot() == before
    topup(session, wallet, "1.000")
    assert balance(wallet.account) == D("30.000")


# --- receipt numbers --------------------------------------------------------------------------------


def test_a_receipt_number_already_taken_is_drawn_again(external_office, monkeypatch):
    session = open_session(external_office)
    wallet = open_wallet()
    first = topup(session, wallet, "1.000")
    unused = new_receipt_number()
    drawn = iter([first.receipt_number, first.receipt_number, unused])
    monkeypatch.setattr(services, "new_receipt_number", lambda: next(drawn))
    second = topup(session, wallet, "2.000")
    assert second.receipt_number == unused
    assert CashTopup.objects.get(pk=second.pk).receipt_number == unused
    assert next(drawn, "no more drawn") == "no more drawn"
    assert selectors.receipt(first.receipt_number)["amount"] == "1.000"
    assert balance(wallet.account) == D("3.000") and verify().ok


def test_a_generator_that_only_repeats_itself_writes_nothing(external_office, ledger_snapshot, monkeypatch):
    session = open_session(external_office)
    wallet = open_wallet()
    taken = topup(session, wallet, "1.000").receipt_number
    monkeypatch.setattr(services, "new_receipt_number", lambda: taken)
    before = ledger_snapshot()
    with pytest.raises(RuntimeError, match="receipt number"):
        topup(session, wallet, "2.000")
    assert ledger_snapshot() == before
    assert CashTopup.objects.count() == 1 and day_total(external_office) == D("1.000")


def test_a_collision_through_the_api_is_a_201_with_another_number(external_office, monkeypatch):
    cashier = make_cashier(external_office)
    services.open_session(cashier=cashier, opening_cash=D("0"))
    client = client_for(cashier.user)
    wallet = open_wallet()
    body = {"account": wallet.number, "amount": "1.000"}
    first = client.post("/api/v1/topups/cash/", body, format="json", HTTP_IDEMPOTENCY_KEY="a").json()
    unused = new_receipt_number()
    drawn = iter([first["receipt_number"], unused])
    monkeypatch.setattr(services, "new_receipt_number", lambda: next(drawn))
    second = client.post("/api/v1/topups/cash/", body, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert second.status_code == 201, second.content
    assert second.json()["receipt_number"] == unused
    assert selectors.receipt(unused)["amount"] == "1.000"


# --- the API's session lookup -----------------------------------------------------------------------


def test_the_api_finds_the_session_office_and_accounts_in_one_query(external_office):
    cashier = make_cashier(external_office)
    opened = services.open_session(cashier=cashier, opening_cash=D("0"))
    with CaptureQueriesContext(connection) as queries:
        session = selectors.open_session_for(cashier.user)
        office = session.office
        seen = (session.pk, session.status, session.business_day, session.cashier.user_id, office.code, office.kind)
        accounts = (office.cash_account.code, office.commission_account.code, office.cash_account.currency)
    assert len(queries.captured_queries) == 1
    assert seen == (opened.pk, "open", opened.business_day, cashier.user_id, external_office.code, "external")
    assert accounts == (external_office.cash_account.code, external_office.commission_account.code, "OMR")
    assert session.opening_cash == D("0.000")  # a column not fetched is read when asked for
    assert selectors.open_session_for(make_cashier(external_office).user) is None


def test_the_api_refuses_a_non_cashier_and_a_cashier_without_a_session(internal_office):
    wallet = open_wallet()
    body = {"account": wallet.number, "amount": "1.000"}
    stranger = client_for(make_user(Role.AGENT))  # the agent role, but no office
    assert_problem(
        stranger.post("/api/v1/topups/cash/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"), 403, "forbidden"
    )
    cashier = make_cashier(internal_office)
    client = client_for(cashier.user)
    assert_problem(
        client.post("/api/v1/topups/cash/", body, format="json", HTTP_IDEMPOTENCY_KEY="k"), 422, "session_closed"
    )
    assert CashTopup.objects.count() == 0 and balance(wallet.account) == D("0.000")
    services.open_session(cashier=cashier, opening_cash=D("0"))
    done = client.post("/api/v1/topups/cash/", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert done.status_code == 201 and done.json()["office"] == internal_office.code


@pytest.mark.postgres
def test_the_open_session_function_gives_the_rows_of_the_plain_query(external_office):
    from django.db import connection

    from agents import selectors, session_function

    session = open_session(external_office)
    user = session.cashier.user_id
    with connection.cursor() as cursor:
        cursor.execute(session_function.CALL_SQL, [user, "open"])
        by_function = sorted(cursor.fetchall(), key=repr)
        cursor.execute(selectors._OPEN_SESSION_SQL, [user, "open"])
        by_query = sorted(cursor.fetchall(), key=repr)
    assert by_function == by_query and len(by_function) == 2  # the float and the commission payable
    found = selectors.open_session_for(session.cashier.user)
    assert found.pk == session.pk and found.office.cash_account.pk == external_office.cash_account_id
