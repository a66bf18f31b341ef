"""No N+1: list endpoints cost the same number of queries for 1 row as for 50."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erial.roles import Role
from ledger.models import Service
from tests.api.conftest import client_for, make_user, open_wallet
from tests.factories import pay

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _wallet_with_payments(count: int):
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet("1000.000", user=owner)
    for _ in range(count - 1):  # the top-up is the first row
        pay(wallet.account, "1.000")
    return client_for(owner), wallet


@pytest.mark.parametrize("url", ["/api/v1/accounts/{number}/transactions/?limit=50", "/api/v1/accounts/{number}/"])
def test_wallet_reads_cost_the_same_for_1_and_50_rows(url):
    one_client, one = _wallet_with_payments(1)
    many_client, many = _wallet_with_payments(50)
    assert len(many_client.get(url.format(number=many.number)).json().get("results", [None] * 50)) == 50
    assert queries_for(one_client, url.format(number=one.number)) == queries_for(
        many_client, url.format(number=many.number)
    )


def test_services_list_is_one_query_however_many_services():
    client = client_for(make_user(Role.SERVICE))
    few = queries_for(client, "/api/v1/services/")
    revenue = Service.objects.first().revenue_account
    Service.objects.bulk_create(
        [
            Service(code=f"svc-{uuid.uuid4().hex[:8]}", name_en="x", name_ar="س", revenue_account=revenue)
            for _ in range(49)
        ]
    )
    assert queries_for(client, "/api/v1/services/") == few


def test_payment_detail_with_many_refunds_costs_the_same(api):
    from tests.api.test_payments_api import pay as pay_api

    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet("100.000", user=owner)
    client = client_for(owner)
    finance, _ = api(Role.FINANCE)
    one = pay_api(client, wallet.number, "50.000").json()["id"]
    many = pay_api(client, wallet.number, "40.000").json()["id"]
    for _ in range(20):
        finance.post(
            f"/api/v1/payments/{many}/refunds/",
            {"amount": "1.000", "reason": "r"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
    assert queries_for(client, f"/api/v1/payments/{one}/") == queries_for(client, f"/api/v1/payments/{many}/")
