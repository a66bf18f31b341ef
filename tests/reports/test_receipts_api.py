"""GET /api/v1/receipts/{number}/: JSON or PDF (A4, thermal), for any office and the owner, nobody else."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from erial.roles import Role
from reports.verification import verification_code
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import assert_problem, client_for, make_user
from tests.reports.conftest import cash_receipt, payment_receipt, receipt_number_of, refund_receipt

pytestmark = pytest.mark.django_db

KINDS = ["cash_topup", "payment", "refund"]


def other_office_agent() -> APIClient:
    return client_for(make_cashier(make_office("external")).user)


def test_cash_topup_receipt_as_json_with_its_verification_link():
    topup, wallet = cash_receipt(amount="12.000")
    response = other_office_agent().get(f"/api/v1/receipts/{topup.receipt_number}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["kind"], body["amount"], body["account"], body["office"]) == (
        "cash_topup",
        "12.000",
        wallet.number,
        topup.office.code,
    )
    code = verification_code(topup.receipt_number)
    assert body["verification_code"] == code and len(code) == 10
    assert body["verification_url"] == f"http://testserver/verify/receipt/{topup.receipt_number}/{code}/"
    assert "owner_user_id" not in body
    assert APIClient().get(body["verification_url"]).status_code == 200  # the link works, without a login


def test_payment_and_refund_receipts_as_json():
    payment = payment_receipt(amount="3.000")
    refund = refund_receipt(reason="Fine cancelled on appeal")
    agent = other_office_agent()
    paid = agent.get(f"/api/v1/receipts/{payment.receipt_number}/").json()
    assert {k: paid[k] for k in ("kind", "amount", "fee", "total", "service")} == {
        "kind": "payment",
        "amount": "3.000",
        "fee": "0.100",
        "total": "3.100",
        "service": "parking_fine",
    }
    returned = agent.get(f"/api/v1/receipts/{refund.receipt_number}/").json()
    assert {k: returned[k] for k in ("kind", "amount", "fee_returned", "total", "payment_receipt")} == {
        "kind": "refund",
        "amount": "3.000",
        "fee_returned": "0.100",
        "total": "3.100",
        "payment_receipt": refund.payment.receipt_number,
    }
    assert (returned["service_en"], returned["service_ar"]) == ("Parking fine", refund.payment.service.name_ar)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", ["a4", "thermal"])
def test_each_receipt_as_a_pdf_of_either_size(kind, size):
    number = receipt_number_of(kind)
    suffix = "&size=thermal" if size == "thermal" else ""
    response = other_office_agent().get(f"/api/v1/receipts/{number}/?format=pdf{suffix}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    expected = f"receipt-{number}-thermal.pdf" if size == "thermal" else f"receipt-{number}.pdf"
    assert response["Content-Disposition"] == f'inline; filename="{expected}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-") and b"DejaVuSans" in response.content  # the shipped font, embedded


def test_accept_header_asks_for_the_pdf_too_and_format_json_is_the_default():
    number = receipt_number_of("payment")
    agent = other_office_agent()
    response = agent.get(f"/api/v1/receipts/{number}/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    as_json = agent.get(f"/api/v1/receipts/{number}/?format=json")
    assert as_json["Content-Type"] == "application/json" and as_json.json()["receipt_number"] == number


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", ["", "?format=pdf"])
def test_any_office_finance_admin_and_the_owner_read_it_nobody_else(kind, fmt):
    owner = make_user(Role.CUSTOMER)
    number = receipt_number_of(kind, owner)
    url = f"/api/v1/receipts/{number}/{fmt}"
    allowed = [other_office_agent(), client_for(make_user(Role.FINANCE)), client_for(make_user(Role.ADMIN))]
    for client in [*allowed, client_for(owner)]:
        assert client.get(url).status_code == 200
    for role in (Role.CUSTOMER, Role.SERVICE, None):
        # Another customer, a municipal system, a user with no role: the receipt does not exist for them.
        assert_problem(client_for(make_user(role)).get(url), 404, "not_found")
    assert_problem(APIClient().get(url), 401, "forbidden")


def test_refusals_of_a_pdf_request_are_problem_json():
    number = receipt_number_of("cash_topup")
    agent = other_office_agent()
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert_problem(agent.get(f"/api/v1/receipts/{typo}/?format=pdf"), 400, "invalid_request")
    assert_problem(agent.get(f"/api/v1/receipts/{number}/?format=pdf&size=a5"), 400, "invalid_request")
    assert_problem(agent.get(f"/api/v1/receipts/{number}/?format=xml"), 400, "invalid_request")
    assert_problem(client_for(make_user(Role.CUSTOMER)).get(f"/api/v1/receipts/{number}/?format=pdf"), 404, "not_found")
