"""The migration that brings receipt numbers to online top-ups gives one to every top-up credited before it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from erial.roles import Role
from ledger.receipts import normalise_receipt_number
from tests.api.conftest import make_user, open_wallet
from topups.models import OnlineTopup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = [("topups", "0001_initial")]
AFTER = [("topups", "0002_receipt_numbers")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def back_to_the_latest_schema():
    """Whatever happens, leave the database at the newest migrations for the tests that follow."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_top_ups_credited_before_the_migration_get_a_receipt_number_and_the_others_none():
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    old = migrate(BEFORE).get_model("topups", "OnlineTopup")
    try:
        statuses = ["completed", "completed", "completed", "initiated", "failed"]
        for status in statuses:
            old.objects.create(
                reference=f"OT{uuid.uuid4().hex[:12].upper()}",
                wallet_id=wallet.pk,
                channel="card",
                amount="5.000",
                status=status,
                created_by_id=owner.pk,
                expires_at=timezone.now() + dt.timedelta(minutes=30),
            )
    finally:
        migrate(AFTER)
    numbers = dict(OnlineTopup.objects.values_list("reference", "receipt_number"))
    by_status = {status: [] for status in statuses}
    for reference, status in OnlineTopup.objects.values_list("reference", "status"):
        by_status[status].append(numbers[reference])
    assert len(set(by_status["completed"])) == 3
    assert all(normalise_receipt_number(number) == number for number in by_status["completed"])
    assert by_status["initiated"] == [None] and by_status["failed"] == [None]
