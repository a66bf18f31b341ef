"""Cash top-ups under real concurrency (PostgreSQL, one connection per cashier thread)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from agents import services
from agents.models import CashierSession, CashTopup, OfficeDayTotal
from erial.errors import LimitExceeded, SessionClosed
from ledger.selectors import balance
from ledger.verification import verify
from tests.agents.conftest import make_cashier, make_office, set_limit
from tests.api.conftest import open_wallet
from tests.factories import D
from tests.parallel import errors_of, in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_top_ups_against_a_float_that_covers_ten_make_exactly_ten():
    # Given an external agent whose float covers exactly 10 top-ups of 5.000, with 10 cashiers at the counter
    office = make_office("external", float_="50.000")
    sessions = [services.open_session(cashier=make_cashier(office), opening_cash=D("0")) for _ in range(10)]
    wallets = [open_wallet() for _ in range(50)]

    # When 50 top-ups arrive at once
    def top_up(i: int):
        session = sessions[i % 10]
        return services.record_cash_topup(
            session=session,
            wallet=wallets[i],
            amount=D("5.000"),
            actor=session.cashier.user,
            idempotency_key=uuid.uuid4().hex,
            scope="t",
        )

    outcomes = in_parallel(50, top_up)
    # Then exactly 10 succeed, 40 are refused for the float, and the float is at zero, never below
    assert sum(o.ok for o in outcomes) == 10
    assert errors_of(outcomes) == [LimitExceeded] * 40
    assert balance(office.cash_account) == D("0.000")
    assert sum(balance(w.account) for w in wallets) == D("50.000")
    assert verify().ok


def test_office_daily_limit_holds_under_concurrency():
    office = make_office("external", float_="1000.000")
    set_limit("office_daily", "30.000", office=office)
    sessions = [services.open_session(cashier=make_cashier(office), opening_cash=D("0")) for _ in range(6)]
    wallets = [open_wallet() for _ in range(12)]

    def top_up(i: int):
        session = sessions[i % 6]
        return services.record_cash_topup(
            session=session,
            wallet=wallets[i],
            amount=D("5.000"),
            actor=session.cashier.user,
            idempotency_key=uuid.uuid4().hex,
            scope="t",
        )

    outcomes = in_parallel(12, top_up)
    assert sum(o.ok for o in outcomes) == 6
    assert CashTopup.objects.filter(office=office).count() == 6
    assert balance(office.cash_account) == Decimal("970.000")


def test_wallet_daily_limit_holds_when_many_offices_top_up_one_wallet_at_once():
    # Given a wallet that may take 20.000 in cash a day, and 8 offices with a cashier each
    set_limit("wallet_daily", "20.000")
    wallet = open_wallet()
    offices = [make_office("external", float_="100.000") for _ in range(8)]
    sessions = [services.open_session(cashier=make_cashier(office), opening_cash=D("0")) for office in offices]

    # When each office takes 5.000 for it at the same moment
    def top_up(i: int):
        session = sessions[i]
        return services.record_cash_topup(
            session=session,
            wallet=wallet,
            amount=D("5.000"),
            actor=session.cashier.user,
            idempotency_key=uuid.uuid4().hex,
            scope="t",
        )

    outcomes = in_parallel(8, top_up)
    # Then four pass and four are refused for the wallet's daily limit, not for anything else
    assert sum(o.ok for o in outcomes) == 4
    assert {o.error.extra["limit"] for o in outcomes if not o.ok} == {"wallet_daily"}
    assert balance(wallet.account) == D("20.000")
    assert sum(OfficeDayTotal.objects.filter(office__in=offices).values_list("amount", flat=True)) == D("20.000")
    assert verify().ok


def test_top_ups_and_voids_racing_keep_the_office_day_total_exact_and_within_the_limit():
    # Given an office with a daily limit of 30.000 that took 15.000 in three top-ups
    office = make_office("external", float_="1000.000")
    set_limit("office_daily", "30.000", office=office)
    sessions = [services.open_session(cashier=make_cashier(office), opening_cash=D("0")) for _ in range(6)]
    wallets = [open_wallet() for _ in range(12)]
    early = [
        services.record_cash_topup(
            session=sessions[i],
            wallet=wallets[i],
            amount=D("5.000"),
            actor=sessions[i].cashier.user,
            idempotency_key=uuid.uuid4().hex,
            scope="t",
        )
        for i in range(3)
    ]

    # When those three are voided while nine more top-ups of 5.000 arrive, all at once
    def act(i: int):
        if i < 3:
            topup = early[i]
            return services.void_cash_topup(
                topup=topup, actor=sessions[i].cashier.user, reason="Wrong wallet", idempotency_key=uuid.uuid4().hex
            )
        session = sessions[i % 6]
        return services.record_cash_topup(
            session=session,
            wallet=wallets[i],
            amount=D("5.000"),
            actor=session.cashier.user,
            idempotency_key=uuid.uuid4().hex,
            scope="t",
        )

    outcomes = in_parallel(12, act)
    # Then no deadlock and no other error: every void passes, top-ups pass while the day has room
    assert all(o.ok for o in outcomes[:3]), [repr(o.error) for o in outcomes[:3]]
    assert set(errors_of(outcomes)) <= {LimitExceeded}
    kept = CashTopup.objects.filter(office=office, void_entry__isnull=True)
    total = OfficeDayTotal.objects.get(office=office).amount
    assert total == sum(t.amount for t in kept) <= D("30.000")
    assert kept.count() == sum(o.ok for o in outcomes[3:]) >= 3  # at least the room the voids did not give
    assert balance(office.cash_account) == D("1000.000") - total
    assert verify().ok


def test_top_ups_racing_the_close_of_their_session_are_counted_or_refused_never_lost_and_never_deadlock():
    # Given an internal office's session (a close with a difference posts over/short to the same drawer the
    # top-ups credit from), and 12 top-ups arriving while the cashier closes with a count that is off
    office = make_office("internal")
    session = services.open_session(cashier=make_cashier(office), opening_cash=D("10.000"))
    wallets = [open_wallet() for _ in range(12)]

    def work(i: int):
        if i == 12:
            return services.close_session(
                session=session, counted_cash=D("1.000"), actor=session.cashier.user, note="Counted twice"
            )
        return services.record_cash_topup(
            session=session,
            wallet=wallets[i],
            amount=D("2.000"),
            actor=session.cashier.user,
            idempotency_key=uuid.uuid4().hex,
            scope="t",
        )

    outcomes = in_parallel(13, work)
    # Then nothing deadlocks: each top-up is either in the session the close counted, or refused as closed
    assert outcomes[12].ok, outcomes[12].error
    assert set(errors_of(outcomes)) <= {SessionClosed}
    session = CashierSession.objects.get(pk=session.pk)  # a protected FSM field: reload, never refresh
    booked = CashTopup.objects.filter(session=session)
    assert session.expected_cash == D("10.000") + sum((t.amount for t in booked), D("0.000"))
    assert booked.count() == sum(o.ok for o in outcomes[:12])
    assert verify().ok
