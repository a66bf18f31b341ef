"""The agent network's API: offices (admin), sessions and top-ups (agents, own office only), receipts."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from agents.models import Office
from erial.roles import Role, grant
from ledger.models import Holder, Payment, PortalActivation, Wallet
from ledger.selectors import balance
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import D

pytestmark = pytest.mark.django_db


def agent_client(office):
    cashier = make_cashier(office)
    return client_for(cashier.user), cashier


def open_session(client, opening="10.000"):
    return client.post("/api/v1/cashier-sessions/", {"opening_cash": opening}, format="json")


def cash(client, account, amount, key=None):
    return client.post(
        "/api/v1/topups/cash/",
        {"account": account, "amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


def test_admin_registers_activates_suspends_and_reinstates_an_office():
    admin = client_for(make_user(Role.ADMIN))
    body = {
        "code": "SEEB-07",
        "name_en": "Seeb Internet Café",
        "name_ar": "مقهى السيب للإنترنت",
        "kind": "external",
        "daily_limit": "2000.000",
        "credit_limit": "150.000",
    }
    created = admin.post("/api/v1/offices/", body, format="json")
    assert created.status_code == 201, created.content
    assert {k: created.json()[k] for k in ("code", "kind", "status")} == {
        "code": "SEEB-07",
        "kind": "external",
        "status": "onboarding",
    }
    assert_problem(admin.post("/api/v1/offices/", body, format="json"), 409, "already_exists")
    for action, status in (("activate", "active"), ("suspend", "suspended"), ("reinstate", "active")):
        response = admin.post(f"/api/v1/offices/SEEB-07/{action}/", {"reason": "test"}, format="json")
        assert response.json() == {"code": "SEEB-07", "status": status}
    detail = admin.get("/api/v1/offices/SEEB-07/").json()
    assert (detail["float"], detail["credit_limit"], detail["commission_payable"]) == ("0.000", "150.000", "0.000")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"kind": "kiosk"}, "invalid_request"),
        ({"name_ar": ""}, "invalid_request"),
        ({"code": "bad code!"}, "invalid_request"),
        ({"credit_limit": "1.0001"}, "invalid_amount"),
        ({"daily_limit": 100}, "invalid_amount"),
        ({"extra": 1}, "invalid_request"),
    ],
)
def test_bad_office_registrations_are_refused(overrides, code):
    admin = client_for(make_user(Role.ADMIN))
    body = {"code": "MCT-1", "name_en": "Muscat", "name_ar": "مسقط", "kind": "internal", **overrides}
    assert_problem(admin.post("/api/v1/offices/", body, format="json"), 400, code)
    assert not Office.objects.filter(code=body["code"]).exists()


def test_only_admins_manage_offices():
    for role in (Role.AGENT, Role.FINANCE, Role.CUSTOMER, Role.SERVICE):
        client = client_for(make_user(role))
        assert_problem(client.post("/api/v1/offices/", {"code": "X"}, format="json"), 403, "forbidden")
    assert APIClient().post("/api/v1/offices/", {}, format="json").status_code == 401


def test_counter_flow_open_top_up_close():
    office = make_office("internal")
    client, _ = agent_client(office)
    wallet = open_wallet()
    assert_problem(cash(client, wallet.number, "5.000"), 422, "session_closed")
    session = open_session(client, "10.000")
    assert session.status_code == 201 and session.json()["status"] == "open"
    assert_problem(open_session(client), 422, "session_already_open")
    topup = cash(client, wallet.number, "25.500", key="t-1")
    assert topup.status_code == 201, topup.content
    again = cash(client, wallet.number, "25.500", key="t-1")
    assert again.json() == topup.json()
    assert balance(wallet.account) == D("25.500")
    body = topup.json()
    assert set(body) >= {"id", "receipt_number", "account", "amount", "created_at"} and body["amount"] == "25.500"
    closed = client.post(
        f"/api/v1/cashier-sessions/{session.json()['id']}/close/", {"counted_cash": "35.500"}, format="json"
    )
    assert {k: closed.json()[k] for k in ("status", "expected_cash", "counted_cash", "difference")} == {
        "status": "closed",
        "expected_cash": "35.500",
        "counted_cash": "35.500",
        "difference": "0.000",
    }


def test_suspended_office_agents_get_agent_inactive():
    office = make_office("external", float_="100.000")
    client, _ = agent_client(office)
    open_session(client)
    admin = client_for(make_user(Role.ADMIN))
    admin.post(f"/api/v1/offices/{office.code}/suspend/", {"reason": "Audit"}, format="json")
    assert_problem(cash(client, open_wallet().number, "1.000"), 422, "agent_inactive")


@pytest.mark.parametrize("status", ["suspended", "onboarding"])
def test_agents_of_an_office_not_active_open_no_account_and_issue_no_portal_code(status, ledger_snapshot):
    office = make_office("internal")
    client, _ = agent_client(office)
    waiting = open_wallet()  # opened at another office: its holder has no portal login yet
    Office.objects.filter(pk=office.pk).update(status=status)
    before = ledger_snapshot()
    counts = (Holder.objects.count(), Wallet.objects.count(), PortalActivation.objects.count())
    holder = {"holder_type": "individual", "national_id": "90817263", "name": "Maryam", "phone": "+968 9123 4567"}
    problem = assert_problem(client.post("/api/v1/accounts/", holder, format="json"), 422, "agent_inactive")
    assert office.code in problem["detail"]
    url = f"/api/v1/accounts/{waiting.number}/portal-activation/"
    assert_problem(client.post(url, format="json"), 422, "agent_inactive")
    assert (Holder.objects.count(), Wallet.objects.count(), PortalActivation.objects.count()) == counts
    assert ledger_snapshot() == before
    Office.objects.filter(pk=office.pk).update(status="active")  # reinstated: the same requests go through
    assert client.post("/api/v1/accounts/", holder, format="json").status_code == 201
    assert client.post(url, format="json").status_code == 201


def test_an_admin_who_is_also_a_suspended_offices_cashier_still_opens_accounts_as_admin():
    """The office check refuses what a login does for its office; an admin acts for the municipality."""
    office = make_office("internal")
    _, cashier = agent_client(office)
    grant(cashier.user, Role.ADMIN)
    Office.objects.filter(pk=office.pk).update(status="suspended")
    client = client_for(cashier.user)
    holder = {"holder_type": "individual", "national_id": "90817264", "name": "Salim", "phone": "+968 9123 4568"}
    assert client.post("/api/v1/accounts/", holder, format="json").status_code == 201


def test_float_exhausted_is_limit_exceeded_with_what_is_left():
    office = make_office("external", float_="10.000")
    client, _ = agent_client(office)
    open_session(client)
    problem = assert_problem(cash(client, open_wallet().number, "10.001"), 422, "limit_exceeded")
    assert problem["limit"] == "float" and problem["available"] == "10.000"


def test_agents_act_only_for_their_own_office():
    mine, other = make_office("internal"), make_office("internal")
    client, _ = agent_client(mine)
    other_client, _ = agent_client(other)
    open_session(other_client)
    topup = cash(other_client, open_wallet().number, "2.000").json()
    # another office's top-up, session and office details are out of reach
    assert_problem(
        client.post(
            f"/api/v1/topups/cash/{topup['id']}/void/", {"reason": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="v"
        ),
        404,
        "not_found",
    )
    assert_problem(client.get(f"/api/v1/offices/{other.code}/"), 403, "forbidden")
    assert client.get(f"/api/v1/offices/{mine.code}/").status_code == 200


def test_void_through_the_api_and_a_double_click_voids_once():
    office = make_office("external", float_="50.000")
    client, _ = agent_client(office)
    open_session(client)
    wallet = open_wallet()
    topup = cash(client, wallet.number, "8.000").json()
    url = f"/api/v1/topups/cash/{topup['id']}/void/"
    first = client.post(url, {"reason": "Wrong wallet"}, format="json", HTTP_IDEMPOTENCY_KEY="v-1")
    second = client.post(url, {"reason": "Wrong wallet"}, format="json", HTTP_IDEMPOTENCY_KEY="v-1")
    assert first.json()["voided"] is True and second.json() == first.json()
    assert balance(wallet.account) == D("0.000") and balance(office.cash_account) == D("50.000")


def test_any_office_and_the_owner_can_read_a_receipt_others_cannot():
    office = make_office("internal")
    client, _ = agent_client(office)
    open_session(client)
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    number = cash(client, wallet.number, "12.000").json()["receipt_number"]
    elsewhere, _ = agent_client(make_office("internal"))
    receipt = elsewhere.get(f"/api/v1/receipts/{number}/").json()
    assert (receipt["kind"], receipt["amount"], receipt["account"], receipt["office"]) == (
        "cash_topup",
        "12.000",
        wallet.number,
        office.code,
    )
    assert client_for(owner).get(f"/api/v1/receipts/{number}/").status_code == 200
    stranger = client_for(make_user(Role.CUSTOMER))
    assert_problem(stranger.get(f"/api/v1/receipts/{number}/"), 404, "not_found")
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert_problem(elsewhere.get(f"/api/v1/receipts/{typo}/"), 400, "invalid_request")


def test_payment_receipts_are_found_at_any_office():
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet("20.000", user=owner)
    payment = (
        client_for(owner)
        .post(
            "/api/v1/payments/",
            {"account": wallet.number, "service": "parking_fine", "bill_reference": "F-3", "amount": "3.000"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="p",
        )
        .json()
    )
    number = Payment.objects.get(pk=payment["id"]).receipt_number
    agent, _ = agent_client(make_office("external"))
    receipt = agent.get(f"/api/v1/receipts/{number}/").json()
    assert (receipt["kind"], receipt["total"], receipt["bill_reference"]) == ("payment", "3.100", "F-3")


def test_office_day_report_for_supervisor_and_finance():
    office = make_office("internal")
    client, _ = agent_client(office)
    open_session(client, "5.000")
    cash(client, open_wallet().number, "7.000")
    supervisor = make_cashier(office, supervisor=True)
    report = client_for(supervisor.user).get(f"/api/v1/offices/{office.code}/day-report/").json()
    assert report["topups"] == {"count": 1, "amount": "7.000", "commission": "0.000"}
    assert report["sessions"][0]["status"] == "open"
    assert_problem(client.get(f"/api/v1/offices/{office.code}/day-report/"), 403, "forbidden")
    finance = client_for(make_user(Role.FINANCE))
    assert_problem(finance.get(f"/api/v1/offices/{office.code}/day-report/?date=2999-01-01"), 400, "invalid_request")


def test_an_agent_learns_nothing_of_other_offices_not_even_whether_a_code_exists():
    """403 for another office's code whether or not it exists: the right is checked before the lookup."""
    mine, theirs = make_office("internal"), make_office("internal")
    cashier = make_cashier(mine, supervisor=True)
    client = client_for(cashier.user)
    for code in (theirs.code, "NO-SUCH-OFFICE"):
        for url in (
            f"/api/v1/offices/{code}/",
            f"/api/v1/offices/{code}/day-report/",
            f"/api/v1/offices/{code}/day-report.pdf",
            f"/api/v1/offices/{code}/statement/?from=2026-01-01&to=2026-01-31",
        ):
            assert_problem(client.get(url), 403, "forbidden")
    assert client.get(f"/api/v1/offices/{mine.code}/").status_code == 200
    finance = client_for(make_user(Role.FINANCE))
    assert_problem(finance.get("/api/v1/offices/NO-SUCH-OFFICE/"), 404, "not_found")  # staff may know
