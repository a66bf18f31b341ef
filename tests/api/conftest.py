"""API test helpers: a client per role, wallets owned by customers, and the problem+json shape."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from erial.roles import Role, grant
from ledger import wallets
from ledger.models import OpeningChannel, Wallet
from tests.factories import top_up


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def make_user(role: Role | None, name: str | None = None):
    user = get_user_model().objects.create_user(name or f"{role or 'nobody'}-{uuid.uuid4().hex[:8]}")
    if role:
        grant(user, role)
    return user


def open_wallet(balance: str = "0.000", *, user=None, national_id: str | None = None) -> Wallet:
    wallet = wallets.open_wallet(
        holder_type="individual",
        national_id=national_id or str(uuid.uuid4().int)[:10],
        phone="+96891234567",
        name_en="Salim Al-Harthy",
        name_ar="سالم الحارثي",
        channel=OpeningChannel.OFFICE,
        user=user,
    )
    if Decimal(balance):
        top_up(wallet.account, balance)
    return wallet


@pytest.fixture
def api():
    """``api(Role.FINANCE)`` -> (client, user); ``api(None)``: a logged-in user with no role."""

    def make(role: Role | None):
        user = make_user(role)
        return client_for(user), user

    return make


@pytest.fixture
def customer():
    """A customer with a wallet holding 100.000: (client, wallet)."""
    user = make_user(Role.CUSTOMER)
    wallet = open_wallet("100.000", user=user)
    return client_for(user), wallet


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body
