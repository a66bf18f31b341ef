"""Cash top-ups under real concurrency (PostgreSQL, one connection per cashier thread)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from agents import services
from agents.models import CashTopup
from erial.errors import LimitExceeded
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
