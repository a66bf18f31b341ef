"""POST /api/v1/payments/ and refunds: the fee, idempotency, refusals that write nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from erial.roles import Role
from ledger.models import FeeRate, Payment
from ledger.selectors import balance
from ledger.verification import verify
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import assert_problem, client_for
from tests.factories import D, system

pytestmark = pytest.mark.django_db


def pay(client, account, amount="2.000", *, service="lease_renewal", bill=None, key=None, **extra):
    body = {
        "account": account,
        "service": service,
        "bill_reference": bill or f"L-{uuid.uuid4().hex[:6]}",
        "amount": amount,
        **extra,
    }
    return client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def test_customer_pays_a_lease_renewal_with_the_fixed_fee(customer):
    client, wallet = customer
    response = pay(client, wallet.number, "2.000", bill="L-2026-114")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("account", "service", "bill_reference", "amount", "fee", "total")} == {
        "account": wallet.number,
        "service": "lease_renewal",
        "bill_reference": "L-2026-114",
        "amount": "2.000",
        "fee": "0.100",
        "total": "2.100",
    }
    assert balance(wallet.account) == D("97.900")
    assert balance(system("revenue.lease_renewal")) == D("2.000")
    assert balance(system("fee_income")) == D("0.100")


def test_the_payment_answers_with_its_receipt_number_and_any_office_reprints_it(customer):
    """The payer (or the municipal system that charged the fee) gets the number any office reprints by."""
    client, wallet = customer
    body = pay(client, wallet.number, "3.000").json()
    assert body["receipt_number"] == Payment.objects.get(pk=body["id"]).receipt_number
    office = client_for(make_cashier(make_office("internal")).user)
    receipt = office.get(f"/api/v1/receipts/{body['receipt_number']}/")
    assert receipt.status_code == 200, receipt.content
    assert (receipt.json()["receipt_number"], receipt.json()["amount"]) == (body["receipt_number"], "3.000")


def test_the_fee_in_force_at_the_moment_of_payment_applies(customer):
    client, wallet = customer
    FeeRate.objects.create(effective_from=timezone.now(), fee=D("0.250"), note="New tariff")
    FeeRate.objects.create(effective_from=timezone.now() + timezone.timedelta(days=30), fee=D("0.500"))
    body = pay(client, wallet.number, "1.000").json()
    assert (body["fee"], body["total"]) == ("0.250", "1.250")


def test_same_key_same_body_replays_the_same_answer_and_moves_nothing_more(customer):
    client, wallet = customer
    first = pay(client, wallet.number, "5.000", bill="P-1", key="k-1")
    again = pay(client, wallet.number, "5.000", bill="P-1", key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert balance(wallet.account) == D("94.900")


def test_same_key_different_body_is_409_and_writes_nothing(customer, ledger_snapshot):
    client, wallet = customer
    pay(client, wallet.number, "5.000", bill="P-1", key="k-1")
    before = ledger_snapshot()
    assert_problem(pay(client, wallet.number, "6.000", bill="P-1", key="k-1"), 409, "idempotency_conflict")
    assert ledger_snapshot() == before


def test_missing_idempotency_key_is_400(customer, ledger_snapshot):
    client, wallet = customer
    before = ledger_snapshot()
    body = {"account": wallet.number, "service": "parking_fine", "bill_reference": "F-1", "amount": "1.000"}
    assert_problem(client.post("/api/v1/payments/", body, format="json"), 400, "missing_idempotency_key")
    assert ledger_snapshot() == before


def test_insufficient_funds_is_422_and_writes_nothing(customer, ledger_snapshot):
    client, wallet = customer
    before = ledger_snapshot()
    problem = assert_problem(pay(client, wallet.number, "99.901"), 422, "insufficient_funds")
    assert problem["available"] == "100.000"
    assert ledger_snapshot() == before
    assert pay(client, wallet.number, "99.900").status_code == 201  # exactly the balance, fee included


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (12.5, "invalid_amount"),
        (12, "invalid_amount"),
        ("12.5001", "invalid_amount"),
        ("1e3", "invalid_amount"),
        ("0", "invalid_amount"),
        ("0.000", "invalid_amount"),
        ("-1.000", "invalid_amount"),
        ("99999999999.000", "invalid_amount"),
        ("NaN", "invalid_amount"),
        (None, "invalid_amount"),
        ("12", "invalid_amount"),  # api.md: exactly 3 decimals
        ("12.5", "invalid_amount"),
        ("12.50", "invalid_amount"),
        ("12.", "invalid_amount"),
        ("١٢.٥٠٠", "invalid_amount"),  # Arabic-Indic digits: a form converts them, an API client sends ASCII
        (" 12.500", "invalid_amount"),
    ],
)
def test_bad_amounts_are_400_invalid_amount(customer, ledger_snapshot, amount, code):
    client, wallet = customer
    before = ledger_snapshot()
    assert_problem(pay(client, wallet.number, amount), 400, code)
    assert ledger_snapshot() == before


def test_a_float_in_raw_json_is_refused_not_rounded(customer, ledger_snapshot):
    client, wallet = customer
    before = ledger_snapshot()
    raw = f'{{"account": "{wallet.number}", "service": "parking_fine", "bill_reference": "F-9", "amount": 0.1}}'
    response = client.post("/api/v1/payments/", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="x")
    assert_problem(response, 400, "invalid_amount")
    assert ledger_snapshot() == before


@pytest.mark.parametrize(("currency", "status", "code"), [("USD", 400, "invalid_amount"), ("OMR", 201, None)])
def test_currency_may_be_given_and_must_be_omr(customer, currency, status, code):
    client, wallet = customer
    response = pay(client, wallet.number, "1.000", currency=currency)
    if code:
        assert_problem(response, status, code)
    else:
        assert response.status_code == status


def test_unknown_fields_are_refused(customer, ledger_snapshot):
    client, wallet = customer
    before = ledger_snapshot()
    body = assert_problem(pay(client, wallet.number, "1.000", ammount="1.000"), 400, "invalid_request")
    assert "ammount" in body["detail"]
    assert ledger_snapshot() == before


def test_malformed_json_and_non_objects_are_400(customer):
    client, _ = customer
    for raw in ("{not json", "[1, 2]", '"text"', '{"amount": NaN}'):
        response = client.post("/api/v1/payments/", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="x")
        assert_problem(response, 400, "invalid_request")


def test_unknown_service_and_bad_bill_reference_are_400(customer, ledger_snapshot):
    client, wallet = customer
    before = ledger_snapshot()
    assert_problem(pay(client, wallet.number, service="fishing_licence"), 400, "invalid_request")
    assert_problem(pay(client, wallet.number, bill="   "), 400, "invalid_request")
    assert ledger_snapshot() == before


def test_mistyped_account_number_is_400_not_404(customer):
    client, wallet = customer
    digits = wallet.number
    swapped = (
        digits[1] + digits[0] + digits[2:] if digits[0] != digits[1] else digits[:-1] + str((int(digits[-1]) + 1) % 10)
    )
    body = assert_problem(pay(client, swapped), 400, "invalid_request")
    assert "mistyped" in body["detail"]


def test_a_bill_is_paid_once_unless_it_is_an_instalment(customer, ledger_snapshot):
    client, wallet = customer
    assert pay(client, wallet.number, "3.000", bill="B-77", service="building_permit").status_code == 201
    before = ledger_snapshot()
    assert_problem(pay(client, wallet.number, "3.000", bill="B-77", service="building_permit"), 422, "already_paid")
    assert ledger_snapshot() == before
    second = pay(client, wallet.number, "3.000", bill="B-77", service="building_permit", instalment=True)
    assert second.status_code == 201 and second.json()["instalment"] is True
    # the same reference for another service is another bill
    assert pay(client, wallet.number, "3.000", bill="B-77", service="parking_permit").status_code == 201


def test_frozen_account_cannot_pay(customer, api, ledger_snapshot):
    client, wallet = customer
    finance, _ = api(Role.FINANCE)
    assert (
        finance.post(f"/api/v1/accounts/{wallet.number}/freeze/", {"reason": "Court order"}, format="json").status_code
        == 200
    )
    before = ledger_snapshot()
    assert_problem(pay(client, wallet.number), 422, "account_inactive")
    assert ledger_snapshot() == before


class TestRefunds:
    def _payment(self, customer, amount="10.000"):
        client, wallet = customer
        return wallet, pay(client, wallet.number, amount).json()["id"]

    def refund(self, client, payment_id, amount, key=None):
        return client.post(
            f"/api/v1/payments/{payment_id}/refunds/",
            {"amount": amount, "reason": "Bill cancelled"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        )

    def test_partial_then_completing_refund_returns_the_fee_only_at_the_end(self, customer, api):
        wallet, payment_id = self._payment(customer)
        finance, _ = api(Role.FINANCE)
        first = self.refund(finance, payment_id, "4.000")
        assert first.status_code == 201, first.content
        assert {k: first.json()[k] for k in ("payment", "amount", "fee_returned")} == {
            "payment": payment_id,
            "amount": "4.000",
            "fee_returned": "0.000",
        }
        assert balance(wallet.account) == D("93.900")
        last = self.refund(finance, payment_id, "6.000").json()
        assert (last["amount"], last["fee_returned"]) == ("6.000", "0.100")
        refunds = Payment.objects.get(pk=payment_id).refunds
        assert {first.json()["receipt_number"], last["receipt_number"]} == set(
            refunds.values_list("receipt_number", flat=True)
        )
        assert balance(wallet.account) == D("100.000")
        assert balance(system("fee_income")) == D("0.000")
        assert Payment.objects.get(pk=payment_id).refunds.count() == 2
        assert verify().ok

    def test_more_than_what_is_left_is_already_refunded(self, customer, api, ledger_snapshot):
        _, payment_id = self._payment(customer)
        finance, _ = api(Role.FINANCE)
        self.refund(finance, payment_id, "7.000")
        before = ledger_snapshot()
        body = assert_problem(self.refund(finance, payment_id, "3.001"), 422, "already_refunded")
        assert body["refundable"] == "3.000"
        assert ledger_snapshot() == before

    def test_a_retried_refund_is_refunded_once(self, customer, api):
        wallet, payment_id = self._payment(customer)
        finance, _ = api(Role.FINANCE)
        first = self.refund(finance, payment_id, "10.000", key="r-1")
        again = self.refund(finance, payment_id, "10.000", key="r-1")
        assert (first.status_code, again.status_code, first.json()) == (201, 201, again.json())
        assert balance(wallet.account) == D("100.000")

    def test_a_bill_refunded_in_full_may_be_paid_again_one_refunded_in_part_may_not(self, customer, api):
        """Paid from the wrong wallet, refunded whole, paid from the right one: the bill is open again only
        once all of it (fee included) is back with the payer."""
        client, wallet = customer
        finance, _ = api(Role.FINANCE)
        paid = pay(client, wallet.number, "8.000", bill="PF-9", service="parking_fine").json()
        assert self.refund(finance, paid["id"], "5.000").status_code == 201
        assert_problem(pay(client, wallet.number, "8.000", bill="PF-9", service="parking_fine"), 422, "already_paid")
        assert Payment.objects.get(pk=paid["id"]).refunded_in_full_at is None
        last = self.refund(finance, paid["id"], "3.000").json()
        assert Payment.objects.get(pk=paid["id"]).refunded_in_full_at is not None
        again = pay(client, wallet.number, "8.000", bill="PF-9", service="parking_fine")
        assert again.status_code == 201, again.content
        assert again.json()["id"] != paid["id"] and last["fee_returned"] == "0.100"
        # the new payment holds the bill in its turn
        assert_problem(pay(client, wallet.number, "8.000", bill="PF-9", service="parking_fine"), 422, "already_paid")
        assert balance(wallet.account) == D("91.900")
        assert verify().ok

    def test_the_migration_marks_payments_refunded_in_full_before_it(self, customer, api):
        import importlib

        from django.apps import apps

        migration = importlib.import_module("ledger.migrations.0013_payment_refunded_in_full")
        _, whole = self._payment(customer)
        _, part = self._payment(customer)
        finance, _ = api(Role.FINANCE)
        self.refund(finance, whole, "4.000")
        self.refund(finance, whole, "6.000")
        self.refund(finance, part, "4.000")
        Payment.objects.update(refunded_in_full_at=None)  # as before the migration
        migration.mark_refunded_in_full(apps, None)
        last = Payment.objects.get(pk=whole).refunds.order_by("-created_at").first()
        assert Payment.objects.get(pk=whole).refunded_in_full_at == last.created_at
        assert Payment.objects.get(pk=part).refunded_in_full_at is None

    def test_unknown_payment_is_404(self, api):
        finance, _ = api(Role.FINANCE)
        assert_problem(self.refund(finance, uuid.uuid4(), "1.000"), 404, "not_found")


def test_fee_is_exact_to_the_baisa_over_many_payments(customer):
    client, wallet = customer
    for amount in ("0.001", "1.999", "10.555"):
        assert pay(client, wallet.number, amount).status_code == 201
    assert balance(wallet.account) == D("100.000") - D("12.555") - D("0.300")
    assert balance(system("fee_income")) == Decimal("0.300")
