"""Each role against each endpoint: allowed or refused, and a customer never sees another's wallet."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from erial.roles import Role
from ledger.models import Payment
from tests.api.conftest import client_for, make_user, open_wallet

pytestmark = pytest.mark.django_db

OWNER, OTHER, NOBODY, ANONYMOUS = "owner", "other customer", "no role", "anonymous"
ACTORS = [OWNER, OTHER, Role.AGENT, Role.FINANCE, Role.SERVICE, Role.ADMIN, NOBODY, ANONYMOUS]


def _expect(allowed: set, *, others: int = 403, other_customer: int = 404, success: int = 200) -> dict:
    table = {actor: (success if actor in allowed else others) for actor in ACTORS}
    if OTHER not in allowed:
        table[OTHER] = other_customer
    table[ANONYMOUS] = 401
    return table


# (name, method, path template, body, expected status per actor)
MATRIX = [
    (
        "open account",
        "post",
        "/api/v1/accounts/",
        "new_holder",
        _expect({Role.AGENT, Role.ADMIN, OTHER}, other_customer=403, success=201),
    ),
    ("read account", "get", "/api/v1/accounts/{number}/", None, _expect({OWNER, Role.AGENT, Role.FINANCE, Role.ADMIN})),
    (
        "list transactions",
        "get",
        "/api/v1/accounts/{number}/transactions/",
        None,
        _expect({OWNER, Role.FINANCE, Role.ADMIN}),
    ),
    ("pay a fee", "post", "/api/v1/payments/", "payment", _expect({OWNER, Role.SERVICE}, success=201)),
    (
        "read a payment",
        "get",
        "/api/v1/payments/{payment}/",
        None,
        _expect({OWNER, Role.AGENT, Role.FINANCE, Role.SERVICE, Role.ADMIN}),
    ),
    (
        "refund a payment",
        "post",
        "/api/v1/payments/{payment}/refunds/",
        "refund",
        _expect({Role.FINANCE}, other_customer=403, success=201),
    ),
    ("list services", "get", "/api/v1/services/", None, _expect(set(ACTORS) - {ANONYMOUS})),
    (
        "freeze account",
        "post",
        "/api/v1/accounts/{number}/freeze/",
        "reason",
        _expect({Role.FINANCE, Role.ADMIN}, other_customer=403),
    ),
]
# "other customer" for open-account is a customer without a wallet yet (self-registration); the owner
# already holds one, and one holder may have one wallet.
MATRIX[0][4][OWNER] = 409


@pytest.mark.parametrize("actor", ACTORS, ids=str)
@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), MATRIX, ids=[row[0] for row in MATRIX])
def test_role_matrix(actor, name, method, path, body, expected):
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet("50.000", user=owner)
    payment = Payment.objects.get(
        pk=client_for(owner)
        .post(
            "/api/v1/payments/",
            {"account": wallet.number, "service": "parking_fine", "bill_reference": "F-1", "amount": "5.000"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="setup",
        )
        .json()["id"]
    )
    if actor == OWNER:
        client = client_for(owner)
    elif actor == OTHER:
        other = make_user(Role.CUSTOMER)
        if name != "open account":  # for self-registration the other customer has no wallet yet
            open_wallet("50.000", user=other)
        client = client_for(other)
    elif actor == NOBODY:
        client = client_for(make_user(None))
    elif actor == ANONYMOUS:
        client = APIClient()
    else:
        client = client_for(make_user(actor))
    payloads = {
        "new_holder": {
            "holder_type": "company",
            "national_id": str(uuid.uuid4().int)[:9],
            "name": "Sohar Trading",
            "phone": "92345678",
        },
        "payment": {"account": wallet.number, "service": "lease_renewal", "bill_reference": "L-9", "amount": "1.000"},
        "refund": {"amount": "1.000", "reason": "Duplicate"},
        "reason": {"reason": "Suspected fraud"},
    }
    url = path.format(number=wallet.number, payment=payment.pk)
    kwargs = {"format": "json", "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex} if method == "post" else {}
    response = getattr(client, method)(url, payloads.get(body), **kwargs)
    assert response.status_code == expected[actor], (actor, name, response.content)
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] in {"forbidden", "not_found", "already_exists"}
