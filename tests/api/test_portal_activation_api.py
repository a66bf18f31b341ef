"""Portal activation codes over the API: handed out when an office opens a wallet, and re-issued on request."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime

from erial.roles import Role, has_role
from ledger import portal_access
from ledger.account_numbers import check_digit
from ledger.models import Holder, PortalActivation, Wallet
from ledger.portal_access import ActivationRefused
from tests.api.conftest import assert_problem, make_user, open_wallet
from tests.parallel import in_parallel

PASSWORD = "correct-horse-battery"


def new_holder(**overrides):
    return {
        "holder_type": "individual",
        "national_id": str(uuid.uuid4().int)[:8],
        "name": "Maryam Al-Said",
        "phone": "+968 9123 4567",
        **overrides,
    }


def activate(number: str, national_id: str, code: str):
    return portal_access.activate(
        wallet_number=number, national_id=national_id, code=code, username=national_id, password=PASSWORD
    )


def reissue(client, number: str):
    return client.post(f"/api/v1/accounts/{number}/portal-activation/", format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_an_account_opened_at_an_office_carries_a_code_that_works(api, role):
    staff, staff_user = api(role)
    holder = new_holder()
    response = staff.post("/api/v1/accounts/", holder, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["balance"] == "0.000" and body["status"] == "active"
    activation = PortalActivation.objects.get()
    assert parse_datetime(body["activation_expires_at"]) == activation.expires_at > activation.created_at
    assert activation.created_by == staff_user

    user = activate(body["number"], holder["national_id"], body["activation_code"])

    assert has_role(user, Role.CUSTOMER)
    assert Wallet.objects.get(number=body["number"]).holder.user == user


@pytest.mark.django_db
def test_a_self_registration_gets_no_code(api):
    customer, user = api(Role.CUSTOMER)
    response = customer.post("/api/v1/accounts/", new_holder(), format="json")
    assert response.status_code == 201, response.content
    assert "activation_code" not in response.json() and "activation_expires_at" not in response.json()
    assert not PortalActivation.objects.exists()
    assert Holder.objects.get().user == user


@pytest.mark.django_db
def test_a_refused_opening_hands_out_no_code(api):
    agent, _ = api(Role.AGENT)
    assert_problem(agent.post("/api/v1/accounts/", new_holder(phone="12"), format="json"), 400, "invalid_request")
    assert not PortalActivation.objects.exists() and not Holder.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_a_new_code_replaces_the_old_one(api, role):
    staff, _ = api(role)
    national_id = "44556677"
    opened = staff.post("/api/v1/accounts/", new_holder(national_id=national_id), format="json").json()

    response = reissue(staff, opened["number"])

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"account", "activation_code", "activation_expires_at"}
    assert body["account"] == opened["number"] and body["activation_code"] != opened["activation_code"]
    with pytest.raises(ActivationRefused):
        activate(opened["number"], national_id, opened["activation_code"])
    assert activate(opened["number"], national_id, body["activation_code"]).username == national_id


@pytest.mark.django_db
def test_no_new_code_for_a_holder_who_has_a_login(api):
    agent, _ = api(Role.AGENT)
    wallet = open_wallet(user=make_user(Role.CUSTOMER))
    assert_problem(reissue(agent, wallet.number), 409, "already_exists")
    assert not PortalActivation.objects.exists()


@pytest.mark.django_db
def test_no_new_code_once_the_code_was_used(api):
    agent, _ = api(Role.AGENT)
    opened = agent.post("/api/v1/accounts/", new_holder(national_id="55667788"), format="json").json()
    activate(opened["number"], "55667788", opened["activation_code"])
    assert_problem(reissue(agent, opened["number"]), 409, "already_exists")
    assert PortalActivation.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "status"), [(Role.CUSTOMER, 403), (Role.FINANCE, 403), (Role.SERVICE, 403)])
def test_only_agents_and_admins_issue_codes(api, role, status):
    client, _ = api(role)
    wallet = open_wallet()
    assert_problem(reissue(client, wallet.number), status, "forbidden")
    assert not PortalActivation.objects.exists()


@pytest.mark.django_db
def test_a_customer_cannot_issue_a_code_for_their_own_or_another_wallet(customer):
    client, own = customer
    other = open_wallet()
    for number in (own.number, other.number):
        assert_problem(reissue(client, number), 403, "forbidden")
    assert not PortalActivation.objects.exists()


@pytest.mark.django_db
def test_reissue_for_an_unknown_or_mistyped_number(api):
    agent, _ = api(Role.AGENT)
    unknown = "1000000" + check_digit("1000000")
    mistyped = unknown[:-1] + str((int(unknown[-1]) + 1) % 10)
    assert_problem(reissue(agent, mistyped), 400, "invalid_request")
    assert_problem(reissue(agent, unknown), 404, "not_found")
    assert not PortalActivation.objects.exists()


@pytest.mark.django_db
def test_the_schema_shows_the_code_and_the_endpoint(api):
    admin, _ = api(Role.ADMIN)
    schema = admin.get("/api/v1/schema/", {"format": "json"}).json()
    assert "activation_code" in schema["components"]["schemas"]["AccountOpenedOut"]["properties"]
    assert "post" in schema["paths"]["/api/v1/accounts/{number}/portal-activation/"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_activations_racing_with_one_code_make_one_login():
    # Given a wallet opened at an office and its code
    wallet = open_wallet()
    issued = portal_access.issue_activation(holder=wallet.holder, actor=None)
    users_before = get_user_model().objects.count()

    # When the holder submits it twice at once (two tabs, a double tap), with different usernames
    def submit(i: int):
        return portal_access.activate(
            wallet_number=wallet.number,
            national_id=wallet.holder.national_id,
            code=issued.code,
            username=f"{wallet.holder.national_id}-{i}",
            password=PASSWORD,
        )

    outcomes = in_parallel(6, submit)

    # Then exactly one login is made and linked; the others are told the code was used
    made = [o.value for o in outcomes if o.ok]
    assert len(made) == 1, [o.error for o in outcomes]
    assert {type(o.error) for o in outcomes if not o.ok} == {portal_access.ActivationUsed}
    assert get_user_model().objects.count() == users_before + 1
    assert Holder.objects.get(pk=wallet.holder.pk).user == made[0]
    assert PortalActivation.objects.get(holder=wallet.holder).used_at is not None
