"""find_wallet, service_by_code, fee_in_force: one query each, and the same objects and values the ORM would
give (on PostgreSQL they are plain SQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erial.errors import InvalidRequest, NotFound
from ledger import account_numbers
from ledger.models import FeeRate, Service, Wallet
from ledger.payments import fee_in_force, service_by_code
from ledger.wallets import find_wallet
from tests.api.conftest import make_user, open_wallet
from tests.factories import D

pytestmark = pytest.mark.django_db


def values(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_the_wallet_its_account_holder_and_balance_come_in_one_query_and_equal_the_orms():
    wallet = open_wallet("12.345", user=make_user(None))
    with CaptureQueriesContext(connection) as queries:
        found = find_wallet(wallet.number)
        seen = (found.account.cached_balance.balance, found.holder.user_id, found.account.code, found.status)
    assert len(queries) == 1
    orm = Wallet.objects.select_related("account", "holder", "account__cached_balance").get(pk=wallet.pk)
    assert values(found) == values(orm)
    assert values(found.account) == values(orm.account)
    assert values(found.holder) == values(orm.holder)
    assert values(found.account.cached_balance) == values(orm.account.cached_balance)
    assert seen[0] == orm.account.cached_balance.balance and str(seen[0]) == "12.345"
    assert not found._state.adding and found._state.db == "default"  # saved objects, not new ones


def test_an_unknown_number_is_not_found_and_a_mistyped_one_is_refused_as_a_typo():
    wallet = open_wallet()
    body = wallet.number[:-1]
    unknown = next(
        body[:-1] + d + account_numbers.check_digit(body[:-1] + d)
        for d in "0123456789"
        if body[:-1] + d + account_numbers.check_digit(body[:-1] + d) != wallet.number
    )
    with pytest.raises(NotFound):
        find_wallet(unknown)
    typo = wallet.number[:-1] + str((int(wallet.number[-1]) + 1) % 10)
    with pytest.raises(InvalidRequest):
        find_wallet(typo)


def test_a_service_comes_with_its_revenue_account_in_one_query_as_the_orm_gives_it():
    Service.objects.filter(code="parking_fine").update(is_active=False)
    for code in ("lease_renewal", "parking_fine"):
        with CaptureQueriesContext(connection) as queries:
            found = service_by_code(code)
            account_code = found.revenue_account.code
        assert len(queries) == 1
        orm = Service.objects.select_related("revenue_account").get(code=code)
        assert values(found) == values(orm) and values(found.revenue_account) == values(orm.revenue_account)
        assert account_code == f"revenue.{code}"
    assert service_by_code("parking_fine").is_active is False
    assert service_by_code("no_such_service") is None


def test_the_fee_in_force_is_the_latest_rate_already_effective_to_the_baisa():
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    FeeRate.objects.create(effective_from=now - dt.timedelta(minutes=5), fee=D("0.125"))
    FeeRate.objects.create(effective_from=now + dt.timedelta(minutes=5), fee=D("0.250"))
    assert fee_in_force(now) == D("0.125") and str(fee_in_force(now)) == "0.125"
    assert fee_in_force(now + dt.timedelta(minutes=6)) == D("0.250")
    assert fee_in_force(now - dt.timedelta(minutes=4, seconds=59)) == D("0.125")
