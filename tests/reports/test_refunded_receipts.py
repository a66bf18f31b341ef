"""A payment refunded since it was paid says so wherever its receipt is shown or printed: the receipts API
(JSON and PDF), the printed receipt (A4 and 80 mm, English and Arabic), the counter's receipt page and the
public check page. The figures paid stay as they were; the refund is a mark beside them.
"""

from __future__ import annotations

import html
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone, translation
from django.utils.dateparse import parse_datetime

from agents import selectors
from erial.roles import Role
from ledger.models import Payment, Refund
from ledger.payments import refund_payment
from reports.pdf.formatting import muscat_time
from reports.receipts import receipt_content, render_receipt
from reports.verification import verification_code
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import client_for, make_user
from tests.reports.conftest import cash_receipt, needs_poppler, payment_receipt, pdf_text
from tests.reports.test_receipt_pdf import receipt_data

pytestmark = pytest.mark.django_db

LRM = "\u200e"


def refund(payment: Payment, amount: str) -> Refund:
    return refund_payment(
        payment=payment,
        amount=Decimal(amount),
        reason="Fine cancelled on appeal",
        actor=make_user(Role.FINANCE),
        idempotency_key=uuid.uuid4().hex,
        scope="test",
    )


def refunded_in_full() -> tuple[Payment, Refund]:
    """A 5.000 parking fine (fee 0.100) refunded in two goes; the second, completing it, returns the fee."""
    payment = payment_receipt(amount="5.000")
    refund(payment, "3.000")
    return payment, refund(payment, "2.000")


def refunded_in_part() -> tuple[Payment, Refund]:
    """A 5.000 parking fine of which 2.000 was refunded, in two goes (the fee stays paid)."""
    payment = payment_receipt(amount="5.000")
    refund(payment, "1.500")
    return payment, refund(payment, "0.500")


def day_of(refund_: Refund) -> str:
    return muscat_time(refund_.created_at).date().isoformat()


def flat(text: str) -> str:
    """Text with every run of whitespace (line breaks of a wrapped banner included) as one space."""
    return re.sub(r"\s+", " ", text)


def agent():
    return client_for(make_cashier(make_office("external")).user)


def check_page(number: str) -> str:
    """The public page's body (styles left out), with its tags."""
    response = Client().get(f"/verify/receipt/{number}/{verification_code(number)}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode().split("<body>", 1)[1])


def counter_page(number: str, language: str = "en") -> str:
    client = Client()
    client.force_login(make_cashier(make_office("internal")).user)
    response = client.get("/counter/receipts/", {"number": number}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return flat(text.replace("\u2066", "").replace("\u2069", ""))


# --- JSON ---------------------------------------------------------------------------------------------------


def test_a_payment_refunded_in_full_says_so_in_the_json_and_keeps_what_was_paid():
    payment, last = refunded_in_full()
    body = agent().get(f"/api/v1/receipts/{payment.receipt_number}/").json()
    assert {k: body[k] for k in ("kind", "amount", "fee", "total")} == {
        "kind": "payment",
        "amount": "5.000",
        "fee": "0.100",
        "total": "5.100",
    }
    assert {k: body[k] for k in ("refund_status", "refunded_amount", "refunded_fee", "refunded_total")} == {
        "refund_status": "full",
        "refunded_amount": "5.000",
        "refunded_fee": "0.100",
        "refunded_total": "5.100",
    }
    assert parse_datetime(body["refunded_at"]) == last.created_at


def test_a_payment_refunded_in_part_says_so_in_the_json():
    payment, last = refunded_in_part()
    body = agent().get(f"/api/v1/receipts/{payment.receipt_number}/").json()
    assert (body["amount"], body["fee"], body["total"]) == ("5.000", "0.100", "5.100")
    assert {k: body[k] for k in ("refund_status", "refunded_amount", "refunded_fee", "refunded_total")} == {
        "refund_status": "partial",
        "refunded_amount": "2.000",
        "refunded_fee": "0.000",
        "refunded_total": "2.000",
    }
    assert parse_datetime(body["refunded_at"]) == last.created_at  # the last refund's time


def test_an_unrefunded_payment_has_no_refund_mark_and_a_cash_top_up_is_unchanged(tmp_path):
    payment = payment_receipt(amount="5.000")
    body = agent().get(f"/api/v1/receipts/{payment.receipt_number}/").json()
    assert (body["refund_status"], body["refunded_amount"], body["refunded_total"], body["refunded_at"]) == (
        "none",
        "0.000",
        "0.000",
        None,
    )
    assert receipt_content(receipt_data(payment.receipt_number)).refund is None
    text = check_page(payment.receipt_number)
    assert "refunded" not in text.lower() and "مسترد" not in text

    topup, _ = cash_receipt(amount="12.000")
    top_body = agent().get(f"/api/v1/receipts/{topup.receipt_number}/").json()
    assert top_body["kind"] == "cash_topup" and top_body["amount"] == "12.000"
    assert not [key for key in top_body if "refund" in key]
    assert receipt_content(receipt_data(topup.receipt_number)).refund is None
    text = check_page(topup.receipt_number)
    assert "refunded" not in text.lower() and "مسترد" not in text


def test_the_refunded_sum_is_read_in_the_same_query_however_many_refunds():
    plain = payment_receipt(amount="5.000")
    refunded, _ = refunded_in_full()
    counts, totals = [], []
    for number in (plain.receipt_number, refunded.receipt_number):
        with CaptureQueriesContext(connection) as queries:
            totals.append(selectors.receipt(number)["refunded_total"])
        counts.append(len(queries))
    assert totals == ["0.000", "5.100"]
    assert counts[0] == counts[1] == 2  # the cash top-ups looked through, then the payment with its refunds


# --- the printed receipt -----------------------------------------------------------------------------------


def test_the_refund_mark_in_both_languages():
    payment, last = refunded_in_full()
    day = day_of(last)
    assert receipt_content(receipt_data(payment.receipt_number)).refund == (
        f"Refunded in full on {day}: 5.100 OMR (amount 5.000 + fee 0.100)",
        f"مسترد بالكامل: 5.100 ر.ع. (المبلغ 5.000 + الرسم 0.100) بتاريخ {LRM}{day}",
    )
    payment, last = refunded_in_part()
    day = day_of(last)
    assert receipt_content(receipt_data(payment.receipt_number)).refund == (
        f"Partly refunded: 2.000 OMR of 5.000 OMR, last refund on {day}",
        f"مسترد جزئيًا: 2.000 ر.ع. من أصل 5.000 ر.ع. وآخر استرداد بتاريخ {LRM}{day}",
    )


@needs_poppler
@pytest.mark.parametrize("size", ["a4", "thermal"])
def test_a_receipt_refunded_in_full_prints_the_mark_and_the_figures_paid(size, tmp_path):
    payment, last = refunded_in_full()
    text = pdf_text(render_receipt(receipt_data(payment.receipt_number), size=size), tmp_path)
    assert f"Refunded in full on {day_of(last)}: 5.100 OMR (amount 5.000 + fee 0.100)" in flat(text)
    for arabic in ("مسترد بالكامل", "المبلغ", "الرسم", "بتاريخ"):
        assert arabic in text, f"{arabic!r} missing from:\n{text}"
    for paid in ("Fee payment receipt", "5.000 OMR", "0.100 OMR", "5.100 OMR", "Total paid", "الإجمالي المدفوع"):
        assert paid in text  # the receipt still says what was paid


@needs_poppler
@pytest.mark.parametrize("size", ["a4", "thermal"])
def test_a_receipt_refunded_in_part_prints_the_mark(size, tmp_path):
    payment, last = refunded_in_part()
    text = pdf_text(render_receipt(receipt_data(payment.receipt_number), size=size), tmp_path)
    assert f"Partly refunded: 2.000 OMR of 5.000 OMR, last refund on {day_of(last)}" in flat(text)
    for arabic in ("مسترد جزئي", "من أصل", "استرداد بتاريخ"):
        assert arabic in text, f"{arabic!r} missing from:\n{text}"
    assert "Refunded in full" not in text and "5.100 OMR" in text


@needs_poppler
def test_the_api_and_the_portal_print_the_refund_too(tmp_path):
    owner = make_user(Role.CUSTOMER)
    payment = payment_receipt(owner, amount="5.000")
    last = refund(payment, "5.000")
    expected = f"Refunded in full on {day_of(last)}: 5.100 OMR (amount 5.000 + fee 0.100)"
    response = agent().get(f"/api/v1/receipts/{payment.receipt_number}/?format=pdf&size=thermal")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert expected in flat(pdf_text(response.content, tmp_path))
    portal = Client()
    portal.force_login(owner)
    response = portal.get(f"/portal/receipts/{payment.receipt_number}/pdf/")
    assert response.status_code == 200, response.content[:300]
    assert expected in flat(pdf_text(response.content, tmp_path))


# --- pages --------------------------------------------------------------------------------------------------


def test_the_check_page_says_a_receipt_was_refunded_in_full():
    payment, last = refunded_in_full()
    text = check_page(payment.receipt_number)
    day = day_of(last)
    assert "Genuine receipt" in text and "5.100 OMR" in text  # genuine, and what was paid
    assert f"Refunded in full on {day}: 5.100 OMR (amount 5.000 + fee 0.100)" in text
    assert f"مسترد بالكامل: 5.100 ر.ع. (المبلغ 5.000 + الرسم 0.100) بتاريخ {LRM}{day}" in text
    assert 'data-refund="full"' in text


def test_the_check_page_says_a_receipt_was_refunded_in_part():
    payment, last = refunded_in_part()
    text = check_page(payment.receipt_number)
    day = day_of(last)
    assert f"Partly refunded: 2.000 OMR of 5.000 OMR, last refund on {day}" in text
    assert f"مسترد جزئيًا: 2.000 ر.ع. من أصل 5.000 ر.ع. وآخر استرداد بتاريخ {LRM}{day}" in text
    assert 'data-refund="partial"' in text


def test_the_counter_page_says_whether_and_how_much_was_refunded():
    full, full_last = refunded_in_full()
    part, part_last = refunded_in_part()
    plain = payment_receipt(amount="5.000")

    def day(refund_: Refund, language: str) -> str:
        with translation.override(language):
            return dateformat.format(timezone.localtime(refund_.created_at), "j M Y")

    text = counter_page(full.receipt_number)
    assert "Bill payment · Refunded in full" in text
    assert f"Refunded in full 5.100 OMR on {day(full_last, 'en')} (amount 5.000 + fee 0.100)" in text
    text = counter_page(part.receipt_number)
    assert "Bill payment · Partly refunded" in text
    assert f"Partly refunded 2.000 OMR of 5.000 OMR, last refund on {day(part_last, 'en')}" in text
    assert "refunded" not in counter_page(plain.receipt_number).lower()

    text = counter_page(full.receipt_number, "ar")
    assert f"مسترد بالكامل 5.100 ر.ع. بتاريخ {day(full_last, 'ar')} (المبلغ 5.000 + الرسم 0.100)" in text
    text = counter_page(part.receipt_number, "ar")
    assert f"مسترد جزئيًا 2.000 ر.ع. من أصل 5.000 ر.ع. وآخر استرداد بتاريخ {day(part_last, 'ar')}" in text
