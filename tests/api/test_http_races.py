"""Races through the whole HTTP stack, on real PostgreSQL with one connection per client thread."""

from __future__ import annotations

import uuid

import pytest

from erial.roles import Role
from ledger.models import Payment
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import client_for, make_user, open_wallet
from tests.factories import D
from tests.parallel import in_parallel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_double_spend_over_http_pays_only_what_the_wallet_holds():
    # Given a wallet that can afford exactly 10 payments of 1.000 + 0.100
    service = make_user(Role.SERVICE)
    wallet = open_wallet("11.000")
    clients = [client_for(service) for _ in range(40)]

    # When 40 different bills are charged to it at once
    def charge(i: int):
        return clients[i].post(
            "/api/v1/payments/",
            {"account": wallet.number, "service": "parking_fine", "bill_reference": f"F-{i}", "amount": "1.000"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )

    outcomes = in_parallel(40, charge)
    statuses = sorted(o.value.status_code for o in outcomes)
    # Then exactly 10 are paid and 30 refused with insufficient_funds, and the wallet is at zero
    assert statuses == [201] * 10 + [422] * 30
    assert {o.value.json()["code"] for o in outcomes if o.value.status_code == 422} == {"insufficient_funds"}
    assert balance(wallet.account) == D("0.000")
    assert Payment.objects.filter(wallet=wallet).count() == 10
    assert verify().ok


def test_a_payment_retried_in_parallel_with_one_key_is_paid_once_with_identical_answers():
    service = make_user(Role.SERVICE)
    wallet = open_wallet("50.000")
    clients = [client_for(service) for _ in range(20)]
    body = {"account": wallet.number, "service": "lease_renewal", "bill_reference": "L-1", "amount": "7.500"}

    outcomes = in_parallel(
        20, lambda i: clients[i].post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert {o.value.status_code for o in outcomes} == {201}
    assert len({o.value.content for o in outcomes}) == 1
    assert balance(wallet.account) == D("42.400")
    assert Payment.objects.count() == 1


def test_one_bill_charged_twice_at_once_with_different_keys_is_paid_once():
    service = make_user(Role.SERVICE)
    wallet = open_wallet("50.000")
    clients = [client_for(service) for _ in range(8)]
    body = {"account": wallet.number, "service": "building_permit", "bill_reference": "BP-7", "amount": "4.000"}

    outcomes = in_parallel(
        8, lambda i: clients[i].post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{i}")
    )
    statuses = sorted(o.value.status_code for o in outcomes)
    assert statuses == [201] + [422] * 7
    assert {o.value.json()["code"] for o in outcomes if o.value.status_code == 422} == {"already_paid"}
    assert balance(wallet.account) == D("45.900")
    assert verify().ok
