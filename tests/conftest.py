"""Shared test set-up. PostgreSQL-only tests carry ``@pytest.mark.postgres`` and skip on SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

from ledger.chart import ensure_services, ensure_system_chart
from ledger.models import Account, AccountBalance, Entry, IdempotencyKey, Posting
from ledger.payments import system_account_id


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (real parallel connections / triggers); running on SQLite")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def ledger_snapshot():
    """A function that captures everything the ledger holds, to prove a refusal changed nothing."""

    def snapshot() -> dict:
        return {
            "entries": Entry.objects.count(),
            "postings": sorted(Posting.objects.values_list("id", "account_id", "amount")),
            "balances": sorted(AccountBalance.objects.values_list("account_id", "balance", "floor")),
            "keys": IdempotencyKey.objects.count(),
            "accounts": Account.objects.count(),
        }

    return snapshot


@pytest.fixture(autouse=True)
def _system_chart(request):
    """Tests that use the database see the system chart, even after a transactional test flushed it."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    ensure_system_chart()
    ensure_services()
    system_account_id.cache_clear()  # a flush re-creates the chart with new ids


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Demo and test users need a password, not a slow one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
