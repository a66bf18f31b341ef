"""find_wallet: one query, and the same objects the ORM would load (on PostgreSQL it is plain SQL)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erial.errors import InvalidRequest, NotFound
from ledger import account_numbers
from ledger.models import Wallet
from ledger.wallets import find_wallet
from tests.api.conftest import make_user, open_wallet

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
