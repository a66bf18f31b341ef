"""The public verification page behind the QR code: genuine receipts show a masked summary, anything else 404."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from agents import services as agent_services
from ledger.receipts import new_receipt_number
from reports.verification import is_genuine, mask_account, mask_name, verification_code
from tests.reports.conftest import cash_receipt, payment_receipt, refund_receipt

pytestmark = pytest.mark.django_db


def page(number: str, code: str):
    return Client().get(f"/verify/receipt/{number}/{code}/")  # nobody logged in


def test_a_genuine_receipt_shows_what_it_proves_and_hides_who_holds_it():
    topup, wallet = cash_receipt(amount="12.000")
    response = page(topup.receipt_number, verification_code(topup.receipt_number))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Genuine receipt" in html and "إيصال صحيح" in html
    for shown in ("Cash top-up", "إيداع نقدي", "12.000 OMR", "12.000 ر.ع.", topup.office.name_en, topup.office.name_ar):
        assert shown in html
    assert "S*** Al-H***" in html and "س*** الح***" in html
    assert f"*****{wallet.number[-3:]}" in html
    holder = wallet.holder
    for private in (wallet.number, "Salim", "Al-Harthy", "سالم", "الحارثي", holder.national_id, holder.phone):
        assert private not in html
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]


def test_payment_and_refund_show_the_service_and_the_total():
    payment = payment_receipt(amount="3.000")
    refund = refund_receipt()
    for number in (payment.receipt_number, refund.receipt_number):
        html = page(number, verification_code(number)).content.decode()
        assert "Parking fine" in html and "3.100 OMR" in html and "3.000 OMR" in html


def test_a_voided_top_up_says_so():
    topup, _ = cash_receipt()
    agent_services.void_cash_topup(
        topup=topup, actor=topup.session.cashier.user, reason="Wrong wallet", idempotency_key="void-1"
    )
    html = page(topup.receipt_number, verification_code(topup.receipt_number)).content.decode()
    assert "VOIDED" in html and "ملغى" in html


def test_a_wrong_code_is_not_genuine():
    topup, _ = cash_receipt()
    code = verification_code(topup.receipt_number)
    wrong = ("A" if code[0] != "A" else "B") + code[1:]
    response = page(topup.receipt_number, wrong)
    assert response.status_code == 404
    assert "Not a genuine receipt" in response.content.decode() and "الإيصال غير صحيح" in response.content.decode()


def test_a_tampered_receipt_number_is_not_genuine():
    topup, _ = cash_receipt(amount="12.000")
    code = verification_code(topup.receipt_number)
    digit = str((int(topup.receipt_number[5]) + 1) % 10)
    typo = topup.receipt_number[:5] + digit + topup.receipt_number[6:]  # check digit no longer matches
    other = new_receipt_number()  # a well-formed number of another (or no) receipt
    for number in (typo, other, "not-a-receipt"):
        response = page(number, code)
        assert response.status_code == 404 and "12.000" not in response.content.decode()


def test_a_code_for_a_receipt_never_issued_is_not_genuine():
    number = new_receipt_number()
    assert page(number, verification_code(number)).status_code == 404


def test_the_printed_form_of_the_code_is_accepted():
    topup, _ = cash_receipt()
    code = verification_code(topup.receipt_number)
    assert page(topup.receipt_number, f"{code[:5]}-{code[5:]}".lower()).status_code == 200


def test_paper_receipts_still_verify_after_the_key_is_rotated(settings):
    topup, _ = cash_receipt()
    code = verification_code(topup.receipt_number)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "x" * 40
    assert not is_genuine(topup.receipt_number, code)
    settings.SECRET_KEY_FALLBACKS = [old]
    assert page(topup.receipt_number, code).status_code == 200


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_script():
    topup, _ = cash_receipt()
    html = page(topup.receipt_number, verification_code(topup.receipt_number)).content.decode()
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_masks():
    assert mask_name("Salim Al-Harthy") == "S*** Al-H***"
    assert mask_name("عبدالله بن سالم الحارثي") == "ع*** ب*** س*** الح***"
    assert mask_name("Muscat Trading LLC") == "M*** T*** L***"
    assert mask_account("12345678") == "*****678"
