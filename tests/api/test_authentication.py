"""API authentication: the token, its user and the user's roles come from one query, with DRF's refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from erial.roles import Role, grant
from tests.api.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def test_a_valid_token_is_one_query_and_brings_every_role_of_the_user():
    user = make_user(Role.FINANCE)
    grant(user, Role.AGENT)
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/services/")
    assert response.status_code == 200
    auth = [q["sql"] for q in queries if "authtoken_token" in q["sql"]]
    assert len(auth) == 1
    assert not [q for q in queries if "auth_group" in q["sql"] and "authtoken_token" not in q["sql"]]


def test_roles_come_from_the_groups_so_a_user_without_the_role_is_refused():
    finance_only = client_for(make_user(Role.FINANCE))
    payment = {"account": "12345678", "service": "lease_renewal", "bill_reference": "L-1", "amount": "1.000"}
    response = finance_only.post("/api/v1/payments/", payment, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 403


def test_a_superuser_is_an_admin_whatever_the_groups():
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root-auth", password="x")
    response = client_for(root).post("/api/v1/offices/", {}, format="json")
    assert response.status_code == 400  # past the role check: the body is what is wrong


@pytest.mark.parametrize("header", ["Token nope", "Token " + "0" * 40, "Token", "Token a b"])
def test_an_unknown_or_malformed_token_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/services/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_deactivated_user_token_stops_working():
    user = make_user(Role.SERVICE)
    client = client_for(user)
    assert client.get("/api/v1/services/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/api/v1/services/").status_code == 401
    assert Token.objects.filter(user=user).exists()


def test_the_user_it_returns_is_the_orms_user_field_for_field():
    from erial.auth import TokenWithRolesAuthentication

    user = make_user(Role.AGENT)
    key = Token.objects.get_or_create(user=user)[0].key
    found, token = TokenWithRolesAuthentication().authenticate_credentials(key)
    orm = type(user).objects.get(pk=user.pk)
    assert {f.attname: getattr(found, f.attname) for f in orm._meta.concrete_fields} == {
        f.attname: getattr(orm, f.attname) for f in orm._meta.concrete_fields
    }
    assert token.key == key and found._erial_roles == {Role.AGENT}
    assert not found._state.adding
