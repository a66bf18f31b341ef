"""Cash top-ups at the counter: ledger legs, limits, commission and clawback, voids, sessions."""

from __future__ import annotations

import datetime as dt
import uuid
from unittest import mock

import pytest
from django.utils import timezone

from agents import services
from agents.models import CashTopup, SessionStatus
from erial.errors import (
    AccountInactive,
    AgentInactive,
    Forbidden,
    InsufficientFunds,
    InvalidAmount,
    InvalidRequest,
    InvalidTransition,
    LimitExceeded,
    SessionAlreadyOpen,
    SessionClosed,
)
from ledger import wallets
from ledger.selectors import balance
from ledger.verification import verify
from tests.agents.conftest import make_cashier, make_office, open_session, set_commission, set_limit, topup
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, pay, system

pytestmark = pytest.mark.django_db


def test_internal_office_cash_goes_drawer_to_wallet(internal_office):
    session = open_session(internal_office)
    wallet = open_wallet()
    t = topup(session, wallet, "25.000")
    assert balance(wallet.account) == D("25.000")
    assert balance(internal_office.cash_account) == D("25.000")
    assert (t.commission, len(t.receipt_number)) == (D("0.000"), 12)
    assert verify().ok


def test_external_agent_spends_its_float_and_earns_commission(external_office):
    set_commission("percent", "1.000", minimum="0.100", maximum="2.000")
    session = open_session(external_office)
    wallet = open_wallet()
    t = topup(session, wallet, "30.000")
    assert t.commission == D("0.300")
    assert balance(external_office.cash_account) == D("70.000")
    assert balance(external_office.commission_account) == D("0.300")
    assert balance(system("commission_expense")) == D("0.300")
    assert balance(wallet.account) == D("30.000")


@pytest.mark.parametrize(
    ("kind", "rate", "minimum", "maximum", "amount", "expected"),
    [
        ("percent", "1.000", "0.100", "2.000", "5.000", "0.100"),  # 0.050 raised to the minimum
        ("percent", "1.000", "0.100", "2.000", "99.999", "1.000"),  # 0.99999 rounds half up to 1.000
        ("percent", "1.000", "0.100", "0.500", "80.000", "0.500"),  # capped at the maximum
        ("percent", "0.750", "0.000", None, "10.010", "0.075"),  # 0.075075 -> 0.075
        ("percent", "0.250", "0.000", None, "0.002", "0.000"),  # rounds to nothing: no commission leg
        ("flat", "0.150", "0.000", None, "60.000", "0.150"),
    ],
)
def test_commission_is_exact_to_the_baisa(external_office, kind, rate, minimum, maximum, amount, expected):
    set_commission(kind, rate, minimum, maximum)
    t = topup(open_session(external_office), open_wallet(), amount)
    assert t.commission == D(expected)
    assert balance(external_office.commission_account) == D(expected)


def test_office_specific_commission_beats_the_general_rule(external_office):
    set_commission("flat", "0.500")
    set_commission("flat", "0.200", office=external_office)
    assert topup(open_session(external_office), open_wallet(), "10.000").commission == D("0.200")


def test_float_plus_credit_limit_bounds_top_ups(ledger_snapshot):
    office = make_office("external", float_="50.000", credit_limit="20.000")
    session = open_session(office)
    wallet = open_wallet()
    topup(session, wallet, "70.000")
    assert balance(office.cash_account) == D("-20.000")
    before = ledger_snapshot()
    with pytest.raises(LimitExceeded) as refused:
        topup(session, wallet, "0.001")
    assert refused.value.extra["limit"] == "float"
    assert ledger_snapshot() == before


@pytest.mark.parametrize(
    ("kind", "limit", "first", "second", "left"),
    [
        ("per_transaction", "50.000", "50.000", "50.001", "50.000"),
        ("office_daily", "60.000", "40.000", "20.001", "20.000"),
        ("wallet_daily", "30.000", "25.000", "5.001", "5.000"),
        ("wallet_max_balance", "45.000", "40.000", "5.001", "5.000"),
    ],
)
def test_each_limit_refuses_and_says_what_is_left(external_office, ledger_snapshot, kind, limit, first, second, left):
    set_limit(kind, limit)
    session = open_session(external_office)
    wallet = open_wallet()
    topup(session, wallet, first)
    before = ledger_snapshot()
    with pytest.raises(LimitExceeded) as refused:
        topup(session, wallet, second)
    assert refused.value.extra["limit"] == kind
    assert refused.value.extra["remaining"] == left
    assert ledger_snapshot() == before
    topup(session, wallet, left) if D(left) else None  # exactly what is left still passes


def test_office_limit_beats_the_general_one(external_office):
    set_limit("per_transaction", "10.000")
    set_limit("per_transaction", "40.000", office=external_office)
    topup(open_session(external_office), open_wallet(), "40.000")


def test_wallet_daily_limit_counts_every_office(external_office):
    set_limit("wallet_daily", "30.000")
    wallet = open_wallet()
    topup(open_session(external_office), wallet, "20.000")
    other = make_office("internal")
    with pytest.raises(LimitExceeded):
        topup(open_session(other), wallet, "10.001")


def test_a_retried_top_up_tops_up_once(external_office):
    session = open_session(external_office)
    wallet = open_wallet()
    first = topup(session, wallet, "10.000", key="dbl")
    again = topup(session, wallet, "10.000", key="dbl")
    assert (again.pk, again.replayed, first.replayed) == (first.pk, True, False)
    assert balance(wallet.account) == D("10.000")
    assert CashTopup.objects.count() == 1


@pytest.mark.parametrize("amount", [D("0"), D("-1"), D("1.0001")])
def test_bad_amounts_are_refused(external_office, ledger_snapshot, amount):
    session = open_session(external_office)
    wallet = open_wallet()
    before = ledger_snapshot()
    with pytest.raises(InvalidAmount):
        topup(session, wallet, str(amount))
    assert ledger_snapshot() == before


def test_suspended_office_is_refused_at_once_and_keeps_history(external_office, ledger_snapshot):
    session = open_session(external_office)
    wallet = open_wallet()
    topup(session, wallet, "5.000")
    services.suspend_office(office=external_office, actor=None, reason="Audit")
    before = ledger_snapshot()
    with pytest.raises(AgentInactive):
        topup(session, wallet, "5.000")
    with pytest.raises(AgentInactive):
        services.open_session(cashier=make_cashier(external_office), opening_cash=D("0"))
    assert ledger_snapshot() == before
    assert CashTopup.objects.filter(office=external_office).count() == 1
    services.reinstate_office(office=external_office, actor=None, reason="Audit passed")
    topup(session, wallet, "5.000")


def test_an_office_in_onboarding_cannot_take_cash():
    office = make_office("internal", active=False)
    with pytest.raises(AgentInactive):
        open_session(office)


def test_termination_only_when_nothing_is_owed_either_way(external_office):
    services.suspend_office(office=external_office, actor=None, reason="Contract ending")
    with pytest.raises(InvalidTransition, match=r"float holds 100\.000"):
        services.terminate_office(office=external_office, actor=None, reason="Contract ended")
    with pytest.raises(InvalidTransition):  # active offices are suspended first
        services.terminate_office(office=make_office("internal"), actor=None, reason="closed")
    empty = make_office("internal")
    services.suspend_office(office=empty, actor=None, reason="Directorate closed")
    assert services.terminate_office(office=empty, actor=None, reason="Directorate closed").status == "terminated"


def test_frozen_wallet_cannot_be_topped_up(external_office, ledger_snapshot):
    wallet = open_wallet()
    wallets.freeze_wallet(wallet=wallet, actor=make_user(None), reason="Court order")
    session = open_session(external_office)
    before = ledger_snapshot()
    with pytest.raises(AccountInactive):
        topup(session, wallet, "1.000")
    assert ledger_snapshot() == before


class TestSessions:
    def test_one_open_session_per_cashier(self, external_office):
        cashier = make_cashier(external_office)
        services.open_session(cashier=cashier, opening_cash=D("10.000"))
        with pytest.raises(SessionAlreadyOpen):
            services.open_session(cashier=cashier, opening_cash=D("10.000"))

    def test_yesterdays_unclosed_session_blocks_and_takes_no_cash(self, external_office):
        cashier = make_cashier(external_office)
        yesterday = timezone.now() - dt.timedelta(days=1)
        with mock.patch("django.utils.timezone.now", return_value=yesterday):
            old = services.open_session(cashier=cashier, opening_cash=D("5.000"))
        with pytest.raises(SessionAlreadyOpen, match="opened on"):
            services.open_session(cashier=cashier, opening_cash=D("5.000"))
        with pytest.raises(SessionClosed, match="close it and open today"):
            topup(old, open_wallet(), "1.000")
        services.close_session(session=old, counted_cash=D("5.000"), actor=cashier.user)
        services.open_session(cashier=cashier, opening_cash=D("5.000"))

    def test_close_arithmetic_and_over_short_posting(self, internal_office):
        session = open_session(internal_office, opening="20.000")
        wallet = open_wallet()
        topup(session, wallet, "30.000")
        voided = topup(session, wallet, "7.500")
        services.void_cash_topup(
            topup=voided, actor=session.cashier.user, reason="Wrong wallet", idempotency_key=uuid.uuid4().hex
        )
        with pytest.raises(InvalidRequest, match="supervisor"):
            services.close_session(session=session, counted_cash=D("49.750"), actor=session.cashier.user)
        closed = services.close_session(
            session=session,
            counted_cash=D("49.750"),
            actor=session.cashier.user,
            note="Short 0.250, checked by supervisor Salma",
        )
        assert (closed.expected_cash, closed.counted_cash, closed.difference) == (D("50.000"), D("49.750"), D("-0.250"))
        assert balance(system("cash_over_short")) == D("0.250")
        assert balance(internal_office.cash_account) == D("29.750")
        assert closed.status == SessionStatus.CLOSED
        # a closed session cannot change
        with pytest.raises(SessionClosed):
            topup(closed, wallet, "1.000")
        with pytest.raises(InvalidTransition):
            services.close_session(session=closed, counted_cash=D("50.000"), actor=session.cashier.user, note="x")
        assert verify().ok

    def test_an_exact_count_posts_nothing(self, internal_office):
        session = open_session(internal_office, opening="0.000")
        topup(session, open_wallet(), "3.000")
        closed = services.close_session(session=session, counted_cash=D("3.000"), actor=session.cashier.user)
        assert (closed.difference, closed.over_short_entry) == (D("0.000"), None)

    def test_only_the_cashier_who_opened_it_may_use_or_close_it(self, external_office):
        session = open_session(external_office)
        other = make_cashier(external_office)
        with pytest.raises(Forbidden):
            services.record_cash_topup(
                session=session,
                wallet=open_wallet(),
                amount=D("1.000"),
                actor=other.user,
                idempotency_key="k",
                scope="t",
            )
        with pytest.raises(Forbidden):
            services.close_session(session=session, counted_cash=D("0"), actor=other.user)


class TestVoids:
    def test_void_returns_float_and_claws_back_commission(self, external_office):
        set_commission("flat", "0.250")
        session = open_session(external_office)
        wallet = open_wallet()
        t = topup(session, wallet, "10.000")
        voided = services.void_cash_topup(topup=t, actor=session.cashier.user, reason="Typo", idempotency_key="v1")
        assert voided.is_voided
        assert balance(wallet.account) == D("0.000")
        assert balance(external_office.cash_account) == D("100.000")
        assert balance(external_office.commission_account) == D("0.000")
        assert balance(system("commission_expense")) == D("0.000")
        again = services.void_cash_topup(topup=t, actor=session.cashier.user, reason="Typo", idempotency_key="v2")
        assert again.replayed and balance(wallet.account) == D("0.000")

    def test_no_void_once_the_wallet_spent_the_money(self, external_office, ledger_snapshot):
        session = open_session(external_office)
        wallet = open_wallet()
        t = topup(session, wallet, "10.000")
        pay(wallet.account, "5.000")
        before = ledger_snapshot()
        with pytest.raises(InsufficientFunds, match="top-up correction"):
            services.void_cash_topup(topup=t, actor=session.cashier.user, reason="Typo", idempotency_key="v")
        assert ledger_snapshot() == before

    def test_no_void_after_the_session_closed(self, external_office):
        session = open_session(external_office, opening="0.000")
        t = topup(session, open_wallet(), "10.000")
        services.close_session(session=session, counted_cash=D("10.000"), actor=session.cashier.user)
        with pytest.raises(SessionClosed):
            services.void_cash_topup(topup=t, actor=session.cashier.user, reason="Late", idempotency_key="v")


def test_a_retry_after_the_session_closed_replays_and_a_new_top_up_is_refused(ledger_snapshot):
    office = make_office("internal")
    session = open_session(office, "5.000")
    wallet = open_wallet()
    first = topup(session, wallet, "3.000", key="counter-1")
    services.close_session(session=session, counted_cash=D("8.000"), actor=session.cashier.user)
    before = ledger_snapshot()
    again = topup(session, wallet, "3.000", key="counter-1")  # the cashier's screen retried after the close
    assert (again.pk, again.replayed) == (first.pk, True)
    with pytest.raises(SessionClosed):
        topup(session, wallet, "3.000", key="counter-2")
    # the check inside the transaction, for a close that lands after the first check passed
    with mock.patch.object(services, "_check_session"), pytest.raises(SessionClosed):
        topup(session, wallet, "3.000", key="counter-3")
    assert ledger_snapshot() == before
    assert balance(wallet.account) == D("3.000")
