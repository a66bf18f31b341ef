"""The customer's own receipts in the portal: PDFs of every kind, links in the history, and every refusal."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest

from erial.roles import Role
from ledger import services as ledger_services
from ledger.models import Service
from ledger.payments import pay_fee, refund_payment
from ledger.receipts import new_receipt_number
from tests.agents.conftest import make_office, open_session, topup
from tests.api.conftest import make_user
from tests.reports.conftest import needs_poppler, pdf_text
from tests.topups.test_online_topups import callback
from tests.web.conftest import Customer, make_customer
from topups import services as topups_services
from topups.models import OnlineTopup

pytestmark = pytest.mark.django_db


def pdf_url(number: str, size: str | None = None) -> str:
    return f"/portal/receipts/{number}/pdf/" + (f"?size={size}" if size else "")


def paid(customer: Customer, amount: str = "3.000"):
    return pay_fee(
        wallet=customer.wallet,
        service=Service.objects.get(code="parking_fine"),
        bill_reference=f"F-{uuid.uuid4().hex[:6].upper()}",
        amount=Decimal(amount),
        actor=customer.user,
        idempotency_key=uuid.uuid4().hex,
        scope="test",
    )


def receipt_of(kind: str, customer: Customer) -> str:
    """A receipt of ``kind`` issued to ``customer``; its number."""
    if kind == "payment":
        return paid(customer).receipt_number
    if kind == "refund":
        payment = paid(customer)
        return refund_payment(
            payment=payment,
            amount=payment.amount,
            reason="Fine cancelled on appeal",
            actor=make_user(Role.FINANCE),
            idempotency_key=uuid.uuid4().hex,
            scope="test",
        ).receipt_number
    if kind == "cash_topup":
        return topup(open_session(make_office("internal")), customer.wallet, "12.000").receipt_number
    started = topups_services.initiate(
        wallet=customer.wallet, amount=Decimal("7.500"), channel="bank", actor=customer.user
    )
    assert callback("bank", reference=started.reference, amount="7.500").status_code == 200
    return OnlineTopup.objects.get(pk=started.pk).receipt_number


KINDS = ["payment", "refund", "cash_topup", "online_topup"]


@needs_poppler
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", ["a4", "thermal"])
def test_the_owner_downloads_each_kind_of_receipt(client, kind, size, tmp_path):
    customer = make_customer("20.000")
    number = receipt_of(kind, customer)
    client.force_login(customer.user)
    response = client.get(pdf_url(number, size))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert {"private", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    assert f"receipt-{number}" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert number in pdf_text(response.content, tmp_path).replace(" ", "")


def test_a4_is_the_default_size(client):
    customer = make_customer("20.000")
    number = receipt_of("payment", customer)
    client.force_login(customer.user)
    default, a4 = client.get(pdf_url(number)), client.get(pdf_url(number, "a4"))
    assert default.status_code == a4.status_code == 200
    assert default["Content-Disposition"] == a4["Content-Disposition"] == f'attachment; filename="receipt-{number}.pdf"'


@pytest.mark.parametrize("kind", KINDS)
def test_someone_elses_receipt_does_not_exist(client, kind):
    owner, other = make_customer("20.000"), make_customer("20.000")
    number = receipt_of(kind, owner)
    client.force_login(other.user)
    assert client.get(pdf_url(number)).status_code == 404


def test_an_unknown_receipt_does_not_exist(client):
    client.force_login(make_customer().user)
    assert client.get(pdf_url(new_receipt_number())).status_code == 404


def test_staff_without_a_wallet_get_no_receipt_here(client):
    number = receipt_of("payment", make_customer("20.000"))
    client.force_login(make_user(Role.FINANCE))
    assert client.get(pdf_url(number)).status_code == 404


@pytest.mark.parametrize("bad", ["mistyped", "R123", "hello", "R1234567890X"])
def test_a_mistyped_number_is_a_400_page_saying_so(client, bad):
    customer = make_customer("20.000")
    number = receipt_of("payment", customer)
    if bad == "mistyped":  # one digit changed: the check digit catches it
        bad = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]
    client.force_login(customer.user)
    response = client.get(pdf_url(bad))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "This is not a receipt number" in response.content.decode()


def test_an_unknown_size_is_a_400_page(client):
    customer = make_customer("20.000")
    number = receipt_of("payment", customer)
    client.force_login(customer.user)
    response = client.get(pdf_url(number, "a5"))
    assert response.status_code == 400
    assert "A4 or thermal" in response.content.decode()


def test_the_400_page_reads_in_arabic(client):
    client.force_login(make_customer().user)
    client.cookies["django_language"] = "ar"
    response = client.get(pdf_url("R123"))
    assert response.status_code == 400
    assert 'dir="rtl"' in response.content.decode() and "ليس رقم إيصال" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    number = receipt_of("payment", make_customer("20.000"))
    response = client.get(pdf_url(number))
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/?next=")


def test_the_history_links_every_movement_that_has_a_receipt(client):
    customer = make_customer("20.000")  # the factory's top-up is a bare ledger entry: no receipt
    numbers = {kind: receipt_of(kind, customer) for kind in KINDS}
    client.force_login(customer.user)
    html = client.get("/portal/").content.decode()
    linked = re.findall(r'href="/portal/receipts/(R\d{11})/pdf/"', html)
    # payment, refund (and the payment it refunds), cash and online top-ups: one link each, nothing else.
    assert set(numbers.values()) <= set(linked)
    assert len(linked) == len(set(linked)) == 5


def test_a_correction_has_no_receipt_link(client):
    customer = make_customer("20.000")
    payment = paid(customer)
    ledger_services.reverse(
        entry=payment.entry, reason="Posted twice", actor=make_user(Role.FINANCE), idempotency_key=uuid.uuid4().hex
    )
    client.force_login(customer.user)
    html = client.get("/portal/").content.decode()
    assert re.findall(r'href="/portal/receipts/(R\d{11})/pdf/"', html) == [payment.receipt_number]
