"""Accounts: opening (by an office or self-registration), reading, history, freeze and close."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from erial.roles import Role
from ledger.account_numbers import check_digit
from ledger.models import Entry, EntryKind, Wallet
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import assert_problem, make_user, open_wallet
from tests.factories import D, pay, system, top_up

pytestmark = pytest.mark.django_db


def new_holder(**overrides):
    return {
        "holder_type": "individual",
        "national_id": str(uuid.uuid4().int)[:8],
        "name": "Maryam Al-Said",
        "name_ar": "مريم السعيدية",
        "phone": "+968 9123 4567",
        **overrides,
    }


def test_an_agent_opens_an_account_with_a_readable_checked_number(api):
    agent, _ = api(Role.AGENT)
    response = agent.post("/api/v1/accounts/", new_holder(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "number": body["number"],
        "name": "Maryam Al-Said · مريم السعيدية",
        "status": "active",
        "balance": "0.000",
        "available_balance": "0.000",
        "currency": "OMR",
        # opened at an office: the holder's one-time code for portal access, shown once
        "activation_code": body["activation_code"],
        "activation_expires_at": body["activation_expires_at"],
    }
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{2}", body["activation_code"])
    number = body["number"]
    assert len(number) == 8 and number.isdigit() and check_digit(number) == "0"
    wallet = Wallet.objects.get(number=number)
    assert (wallet.channel, wallet.holder.phone, wallet.holder.user) == ("office", "+96891234567", None)


def test_a_customer_registers_online_and_owns_the_new_account(api):
    client, user = api(Role.CUSTOMER)
    response = client.post(
        "/api/v1/accounts/", new_holder(holder_type="company", name="Nizwa Dates LLC"), format="json"
    )
    assert response.status_code == 201
    wallet = Wallet.objects.get(number=response.json()["number"])
    assert (wallet.holder.user, wallet.channel) == (user, "online")
    assert client.get(f"/api/v1/accounts/{wallet.number}/").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"holder_type": "trust"}, "holder_type"),
        ({"national_id": "12ab"}, "national_id"),
        ({"phone": "12345"}, "phone"),
        ({"name": "", "name_ar": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"nickname": "x"}, "nickname"),
    ],
)
def test_bad_openings_are_400_and_open_nothing(api, overrides, field):
    agent, _ = api(Role.AGENT)
    count = Wallet.objects.count()
    response = agent.post("/api/v1/accounts/", new_holder(**overrides), format="json")
    body = assert_problem(response, 400, "invalid_request")
    assert field in str(body)
    assert Wallet.objects.count() == count


def test_one_holder_one_wallet(api):
    agent, _ = api(Role.AGENT)
    holder = new_holder()
    assert agent.post("/api/v1/accounts/", holder, format="json").status_code == 201
    assert_problem(agent.post("/api/v1/accounts/", holder, format="json"), 409, "already_exists")
    # the same civil ID as a company registration number is another holder
    assert agent.post("/api/v1/accounts/", {**holder, "holder_type": "company"}, format="json").status_code == 201


def test_an_unknown_number_is_404_and_a_mistyped_one_is_400(api):
    finance, _ = api(Role.FINANCE)
    wallet = open_wallet()
    n = wallet.number
    unknown = next(
        body + check_digit(body)
        for body in (f"{int(n[:7]) + i:07d}" for i in range(1, 50))
        if not Wallet.objects.filter(number=body + check_digit(body)).exists()
    )
    assert_problem(finance.get(f"/api/v1/accounts/{unknown}/"), 404, "not_found")
    typo = n[:-1] + str((int(n[-1]) + 1) % 10)
    assert "mistyped" in assert_problem(finance.get(f"/api/v1/accounts/{typo}/"), 400, "invalid_request")["detail"]
    assert finance.get(f"/api/v1/accounts/{n[:4]} {n[4:]}/").status_code == 200  # read aloud in two groups


def test_transactions_newest_first_with_balance_after_and_pages(customer):
    client, wallet = customer
    for amount in ("1.000", "2.000", "3.000"):
        pay(wallet.account, amount)
    page = client.get(f"/api/v1/accounts/{wallet.number}/transactions/?limit=2").json()
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in page["results"]] == [
        ("fee_payment", "-3.100", "93.700"),
        ("fee_payment", "-2.100", "96.800"),
    ]
    rest = client.get(page["next"]).json()
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in rest["results"]] == [
        ("fee_payment", "-1.100", "98.900"),
        ("cash_topup", "100.000", "100.000"),
    ]
    assert rest["next"] is None
    assert set(page["results"][0]) == {"id", "kind", "amount", "balance_after", "created_at", "description"}


def test_freeze_unfreeze_and_history_records_who_and_why(customer, api):
    _client, wallet = customer
    finance, clerk = api(Role.FINANCE)
    url = f"/api/v1/accounts/{wallet.number}/"
    frozen = finance.post(url + "freeze/", {"reason": "Court order 55/2026"}, format="json").json()
    assert (frozen["status"], frozen["balance"], frozen["available_balance"]) == ("frozen", "100.000", "0.000")
    assert_problem(finance.post(url + "freeze/", {"reason": "again"}, format="json"), 422, "invalid_transition")
    assert_problem(finance.post(url + "freeze/", {}, format="json"), 400, "invalid_request")
    assert finance.post(url + "unfreeze/", {"reason": "Order lifted"}, format="json").json()["status"] == "active"
    history = list(Wallet.objects.get(pk=wallet.pk).history.order_by("history_date"))
    assert [(h.status, h.history_user, h.history_change_reason) for h in history[-2:]] == [
        ("frozen", clerk, "Court order 55/2026"),
        ("active", clerk, "Order lifted"),
    ]


def test_closing_pays_out_the_balance_then_refuses_all_movement(customer, api):
    _client, wallet = customer
    finance, _ = api(Role.FINANCE)
    url = f"/api/v1/accounts/{wallet.number}/close/"
    assert_problem(finance.post(url, {"reason": "Holder moved abroad"}, format="json"), 400, "missing_idempotency_key")
    closed = finance.post(url, {"reason": "Holder moved abroad"}, format="json", HTTP_IDEMPOTENCY_KEY="close-1")
    assert closed.json()["status"] == "closed" and closed.json()["balance"] == "0.000"
    payout = Entry.objects.get(kind=EntryKind.PAYOUT)
    assert balance(system("payouts_payable")) == D("100.000") and payout.actor is not None
    assert_problem(
        finance.post(url.replace("close", "unfreeze"), {"reason": "x"}, format="json"), 422, "invalid_transition"
    )
    with pytest.raises(Exception, match="blocked"):
        top_up(wallet.account, "1.000")
    assert verify().ok


def test_closing_an_empty_frozen_wallet_posts_nothing(api):
    finance, _ = api(Role.FINANCE)
    wallet = open_wallet(user=make_user(Role.CUSTOMER))
    finance.post(f"/api/v1/accounts/{wallet.number}/freeze/", {"reason": "Dormant"}, format="json")
    entries = Entry.objects.count()
    response = finance.post(
        f"/api/v1/accounts/{wallet.number}/close/", {"reason": "Dormant"}, format="json", HTTP_IDEMPOTENCY_KEY="c"
    )
    assert response.json()["status"] == "closed"
    assert Entry.objects.count() == entries


@pytest.mark.parametrize("funded", [True, False])
def test_a_close_retried_with_its_key_gives_the_same_answer_and_pays_out_once(api, ledger_snapshot, funded):
    finance, _ = api(Role.FINANCE)
    wallet = open_wallet("25.000" if funded else "0.000", user=make_user(Role.CUSTOMER))
    url = f"/api/v1/accounts/{wallet.number}/close/"
    first = finance.post(url, {"reason": "Holder left"}, format="json", HTTP_IDEMPOTENCY_KEY="close-once")
    assert first.status_code == 200 and first.json()["status"] == "closed"
    after_first = ledger_snapshot()
    again = finance.post(url, {"reason": "Holder left"}, format="json", HTTP_IDEMPOTENCY_KEY="close-once")
    assert (again.status_code, again.json()) == (200, first.json())
    assert ledger_snapshot() == after_first
    assert Entry.objects.filter(kind=EntryKind.PAYOUT).count() == (1 if funded else 0)
    # another key is another request: closing a closed account is refused, and writes nothing
    other = finance.post(url, {"reason": "Again"}, format="json", HTTP_IDEMPOTENCY_KEY="close-twice")
    assert_problem(other, 422, "invalid_transition")
    assert ledger_snapshot() == after_first
    assert verify().ok


def test_services_catalogue_in_both_languages(api):
    client, _ = api(Role.SERVICE)
    services = {s["code"]: s for s in client.get("/api/v1/services/").json()}
    assert set(services) >= {"lease_renewal", "parking_fine", "parking_permit", "municipal_licence", "building_permit"}
    assert services["parking_fine"]["name_ar"] and services["parking_fine"]["name_en"] == "Parking fine"


def test_schema_and_docs_are_served_locally(api):
    client, _ = api(Role.FINANCE)
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/payments/", "/api/v1/accounts/{number}/transactions/"} <= set(paths)
    docs = Client().get("/api/docs/")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/static/drf_spectacular_sidecar/" in docs.text


def test_arabic_indic_digits_are_stored_as_western_digits(api):
    agent, _ = api(Role.AGENT)
    response = agent.post("/api/v1/accounts/", new_holder(national_id="٠٩٨٧٦٥٤٣", phone="٩١٢٣٤٥٦٧"), format="json")
    assert response.status_code == 201, response.content
    holder = Wallet.objects.get(number=response.json()["number"]).holder
    assert (holder.national_id, holder.phone) == ("09876543", "+96891234567")
