"""The customer portal through Django's test client: every page, every refusal, both languages.

A refusal is shown on the form and writes nothing: the ledger snapshot, the logins and the holders are
the same before and after.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from erial.roles import Role, has_role
from ledger import wallets
from ledger.models import Holder, OpeningChannel, Payment, Wallet
from ledger.selectors import balance
from tests.factories import D, system, top_up
from tests.web.conftest import PASSWORD, make_customer, new_national_id

pytestmark = pytest.mark.django_db

DASHBOARD, PAY, LOGIN, REGISTER = "/portal/", "/portal/pay/", "/portal/login/", "/portal/register/"


def logged_in(client, customer):
    client.force_login(customer.user)
    return client


def pay_form(client, **fields):
    """POST the pay form as the page renders it: with a fresh idempotency key unless one is given."""
    body = {
        "service": "lease_renewal",
        "bill_reference": f"L-{uuid.uuid4().hex[:6]}",
        "amount": "2.000",
        "idempotency_key": str(uuid.uuid4()),
        **fields,
    }
    return client.post(PAY, body)


def text_of(response) -> str:
    """The page's visible text, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def world(ledger_snapshot):
    """Everything a refused registration or payment must leave untouched."""
    return ledger_snapshot(), get_user_model().objects.count(), Holder.objects.count(), Payment.objects.count()


def registration(**fields):
    return {
        "holder_type": "individual",
        "national_id": new_national_id(),
        "name_en": "Aisha Al-Balushi",
        "name_ar": "",
        "phone": "9123 4567",
        "email": "",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **fields,
    }


# --- login, logout, who may see what ------------------------------------------------------------------


def test_pages_need_a_login(client, ledger_snapshot):
    before = ledger_snapshot()
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next={DASHBOARD}"
    response = pay_form(client)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert ledger_snapshot() == before


def test_customer_logs_in_with_their_civil_id_and_lands_on_their_account(client, customer):
    page = client.get(LOGIN)
    assert page.status_code == 200 and "Civil ID or CR number" in text_of(page)
    response = client.post(LOGIN, {"username": customer.national_id, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    assert "20.000" in text_of(client.get(DASHBOARD))


def test_civil_id_typed_in_arabic_indic_digits_logs_in(client, customer):
    arabic = customer.national_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = client.post(LOGIN, {"username": arabic, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == DASHBOARD


def test_wrong_password_is_refused_with_a_clear_message(client, customer):
    response = client.post(LOGIN, {"username": customer.national_id, "password": "not-it"})
    assert response.status_code == 200
    assert "the password is not right" in text_of(response)
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_returns_to_the_login_page(client, customer):
    logged_in(client, customer)
    assert client.get("/portal/logout/").status_code == 405
    response = client.post("/portal/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get(DASHBOARD).status_code == 302


def test_a_login_without_a_wallet_is_told_so_kindly(client, ledger_snapshot):
    staff = get_user_model().objects.create_user("finance-officer", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    response = client.get(DASHBOARD)
    assert response.status_code == 403
    assert "not linked to an e-Rial wallet" in text_of(response)
    before = ledger_snapshot()
    assert pay_form(client).status_code == 403
    assert ledger_snapshot() == before


def test_a_customer_sees_only_their_own_wallet(client, customer):
    other = make_customer("55.000", name_en="Another Holder")
    page = text_of(logged_in(client, customer).get(DASHBOARD))
    assert "20.000" in page and "55.000" not in page and "Another Holder" not in page
    assert other.wallet.number[:4] not in page.replace(customer.wallet.number[:4], "")


# --- registration ----------------------------------------------------------------------------------------


def test_registration_opens_an_online_wallet_logs_in_and_makes_a_customer(client):
    fields = registration(email="aisha@example.om")
    response = client.post(REGISTER, fields)
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    user = get_user_model().objects.get(username=fields["national_id"])
    assert user.check_password(PASSWORD) and has_role(user, Role.CUSTOMER)
    wallet = Wallet.objects.get(holder__user=user)
    assert wallet.channel == OpeningChannel.ONLINE and wallet.opened_by == user
    assert (wallet.holder.phone, wallet.holder.email) == ("+96891234567", "aisha@example.om")
    page = text_of(client.get(DASHBOARD))
    assert "Hello, Aisha Al-Balushi" in page and "0.000 OMR" in page
    assert f"{wallet.number[:4]} {wallet.number[4:]}" in page


def test_registration_page_renders_for_visitors(client):
    response = client.get(REGISTER)
    assert response.status_code == 200
    page = text_of(response)
    assert "Individual (civil ID)" in page and "Company (commercial registration)" in page


def test_a_registered_customer_is_sent_to_their_account(client, customer):
    assert logged_in(client, customer).get(REGISTER)["Location"] == DASHBOARD


def test_registration_of_a_holder_who_already_has_a_wallet_is_refused(client, ledger_snapshot):
    national_id = new_national_id()
    wallets.open_wallet(
        holder_type="individual",
        national_id=national_id,
        phone="91234567",
        name_en="Opened At The Office",
        channel=OpeningChannel.OFFICE,
    )
    before = world(ledger_snapshot)
    response = client.post(REGISTER, registration(national_id=national_id))
    assert response.status_code == 200
    assert "An e-Rial account already exists for this civil ID" in text_of(response)
    assert world(ledger_snapshot) == before
    assert not get_user_model().objects.filter(username=national_id).exists()


def test_registration_with_a_number_that_already_has_a_login_is_refused(client, customer, ledger_snapshot):
    before = world(ledger_snapshot)
    response = client.post(REGISTER, registration(national_id=customer.national_id, holder_type="company"))
    assert "An online login already exists for this number" in text_of(response)
    assert world(ledger_snapshot) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "12345"}, "Enter an Omani phone number"),
        ({"name_en": "", "name_ar": ""}, "Enter your name in English or in Arabic"),
        ({"national_id": "12"}, "A civil ID or CR number is 4 to 20 digits"),
        ({"email": "not-an-address"}, "Enter a valid email address"),
        ({"password2": "something-else"}, "The two passwords are not the same"),
        ({"password1": "short", "password2": "short"}, "This password is too short"),
    ],
    ids=["bad-phone", "missing-name", "short-id", "bad-email", "passwords-differ", "short-password"],
)
def test_registration_refusals_are_shown_and_write_nothing(client, ledger_snapshot, fields, message):
    before = world(ledger_snapshot)
    response = client.post(REGISTER, registration(**fields))
    assert response.status_code == 200
    page = text_of(response)
    assert message in page and "Please correct the marked fields" in page
    assert 'aria-invalid="true"' in response.content.decode() or "alert" in page
    assert world(ledger_snapshot) == before


# --- the account page ------------------------------------------------------------------------------------


def test_the_account_page_shows_balance_number_status_and_history(client, customer):
    response = logged_in(client, customer).get(DASHBOARD)
    assert response.status_code == 200
    page = text_of(response)
    number = customer.wallet.number
    assert "20.000 OMR" in page and f"{number[:4]} {number[4:]}" in page and "Active" in page
    assert "Cash top-up" in page and "+20.000" in page
    html = response.content.decode()
    # Times are shown in Asia/Muscat (UTC+4), whatever the server's clock zone.
    assert re.search(r'<time datetime="[^"]+\+04:00">', html)
    # A form rendered carries a fresh idempotency key; a form rendered again carries another one.
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', html)
    again = re.findall(r'name="idempotency_key" value="([0-9a-f-]{36})"', client.get(DASHBOARD).content.decode())
    assert len(keys) == 1 and keys != again
    assert 'inputmode="decimal"' in html


def test_history_is_newest_first_and_paginated(client, customer):
    for amount in ("1.000", "2.000", "3.000", "4.000", "5.000", "6.000", "7.000", "8.000", "9.000", "10.000"):
        top_up(customer.wallet.account, amount)
    logged_in(client, customer)
    first = client.get(DASHBOARD).content.decode()
    amounts = re.findall(r'<td class="num credit"><bdi dir="ltr">([^<]+)</bdi>', first)
    assert amounts == [f"+{n}.000" for n in range(10, 0, -1)]
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get(DASHBOARD, {"page": 2}).content.decode()
    assert re.findall(r'<td class="num credit"><bdi dir="ltr">([^<]+)</bdi>', second) == ["+20.000"]


# --- paying a bill ---------------------------------------------------------------------------------------


def test_paying_a_bill_takes_amount_and_fee_and_shows_the_payment_once(client, customer):
    logged_in(client, customer)
    response = pay_form(client, bill_reference="L-2026-114", amount="2.000")
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    payment = Payment.objects.get(wallet=customer.wallet)
    assert (payment.amount, payment.fee, payment.bill_reference) == (D("2.000"), D("0.100"), "L-2026-114")
    assert payment.entry.actor == customer.user
    assert balance(customer.wallet.account) == D("17.900")
    assert balance(system("revenue.lease_renewal")) == D("2.000")
    page = text_of(client.get(DASHBOARD))
    assert "Payment done" in page and "2.100 OMR" in page and "0.100 OMR" in page
    assert "17.900 OMR" in page and "-2.100" in page
    assert "Bill payment: Lease-contract renewal, bill L-2026-114" in page
    # POST/redirect/GET: reloading the page shows the account, not the payment again, and pays nothing.
    assert "Payment done" not in text_of(client.get(DASHBOARD))
    assert Payment.objects.count() == 1


def test_what_a_customer_typed_is_shown_as_text_never_as_markup(client, customer):
    logged_in(client, customer)
    pay_form(client, bill_reference="<b>L-1</b>", amount="1.000")
    html = client.get(DASHBOARD).content.decode()
    assert "<b>L-1</b>" not in html and html.count("&lt;b&gt;L-1&lt;/b&gt;") == 2  # receipt and history


def test_a_form_submitted_twice_pays_once(client, customer):
    logged_in(client, customer)
    key = str(uuid.uuid4())
    first = pay_form(client, bill_reference="P-77", amount="5.000", idempotency_key=key)
    second = pay_form(client, bill_reference="P-77", amount="5.000", idempotency_key=key)
    assert (first.status_code, second.status_code) == (302, 302)
    assert Payment.objects.filter(wallet=customer.wallet).count() == 1
    assert balance(customer.wallet.account) == D("14.900")
    assert "Payment done" in text_of(client.get(DASHBOARD))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "50.000"}, "Your balance is not enough for this payment and its fee (available: 20.000 OMR)"),
        ({"amount": "1.2345"}, "with at most 3 decimals"),
        ({"amount": "0"}, "Enter an amount above zero"),
        ({"amount": "1e3"}, "Enter an amount above zero"),
        ({"service": "no_such_service"}, "Select a valid choice"),
        ({"bill_reference": ""}, "This field is required"),
        ({"idempotency_key": ""}, "This form has expired"),
    ],
    ids=["insufficient-funds", "four-decimals", "zero", "exponent", "unknown-service", "no-bill", "no-key"],
)
def test_payment_refusals_are_shown_on_the_form_and_write_nothing(client, customer, ledger_snapshot, fields, message):
    logged_in(client, customer)
    before = world(ledger_snapshot)
    response = pay_form(client, **fields)
    assert response.status_code == 200
    page = text_of(response)
    assert message in page and "Please correct the marked fields" in page
    assert world(ledger_snapshot) == before
    assert "20.000 OMR" in page  # the account page is shown again, balance unchanged


def test_a_used_form_sent_again_with_other_values_is_refused(client, customer, ledger_snapshot):
    logged_in(client, customer)
    key = str(uuid.uuid4())
    pay_form(client, bill_reference="P-1", amount="1.000", idempotency_key=key)
    before = world(ledger_snapshot)
    response = pay_form(client, bill_reference="P-1", amount="9.000", idempotency_key=key)
    assert "This form was already used for a different payment" in text_of(response)
    assert world(ledger_snapshot) == before


def test_a_bill_already_paid_is_refused(client, customer, ledger_snapshot):
    logged_in(client, customer)
    pay_form(client, bill_reference="F-1", service="parking_fine", amount="1.000")
    before = world(ledger_snapshot)
    response = pay_form(client, bill_reference="F-1", service="parking_fine", amount="1.000")
    assert "This bill has already been paid" in text_of(response)
    assert world(ledger_snapshot) == before


def test_a_frozen_wallet_cannot_pay(client, customer, ledger_snapshot):
    officer = get_user_model().objects.create_user("finance-1")
    wallets.freeze_wallet(wallet=customer.wallet, actor=officer, reason="Lost phone reported")
    logged_in(client, customer)
    assert "Frozen" in text_of(client.get(DASHBOARD))
    before = world(ledger_snapshot)
    response = pay_form(client)
    assert "Your e-Rial account is not active" in text_of(response)
    assert world(ledger_snapshot) == before


# --- Arabic ----------------------------------------------------------------------------------------------


def test_the_language_switch_remembers_arabic(client):
    response = client.post("/portal/language/", {"language": "ar", "next": LOGIN})
    assert response.status_code == 302 and response["Location"] == LOGIN
    html = client.get(LOGIN).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "تسجيل الدخول" in html and "الرقم المدني أو رقم السجل التجاري" in html


def test_the_account_page_in_arabic_keeps_western_digits(client, customer):
    logged_in(client, customer)
    client.cookies["django_language"] = "ar"
    pay_form(client, bill_reference="L-9", amount="2.000")
    response = client.get(DASHBOARD)
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    page = text_of(response)
    number = customer.wallet.number
    assert "الرصيد" in page and "17.900 ر.ع." in page and f"{number[:4]} {number[4:]}" in page
    assert "تم الدفع" in page and "نشط" in page
    assert "دفع فاتورة: تجديد عقد الإيجار، فاتورة L-9" in page
    assert "تجديد عقد الإيجار" in html and "Lease-contract renewal" not in html  # service names in Arabic
    assert not re.search("[٠-٩]", page)  # amounts, numbers and dates keep Western digits


def test_refusals_are_explained_in_arabic(client, customer, ledger_snapshot):
    logged_in(client, customer)
    client.cookies["django_language"] = "ar"
    before = world(ledger_snapshot)
    page = text_of(pay_form(client, amount="50.000"))
    assert "رصيدك لا يكفي لهذا الدفع مع رسومه (المتاح: 20.000 ر.ع.)" in page
    client.logout()  # which also forgets the cookies
    client.cookies["django_language"] = "ar"
    page = text_of(client.post(REGISTER, registration(phone="12")))
    assert "أدخل رقم هاتف عُمانيًا" in page
    assert world(ledger_snapshot) == before


def test_an_amount_typed_in_arabic_indic_digits_is_understood(client, customer):
    logged_in(client, customer)
    assert pay_form(client, amount="٢٫٥٠٠").status_code == 302
    assert Payment.objects.get(wallet=customer.wallet).amount == D("2.500")


def test_every_portal_string_has_an_arabic_translation():
    from pathlib import Path

    from django.conf import settings

    po = (Path(settings.BASE_DIR) / "locale/ar/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    entries = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', po, flags=re.M)
    assert len(entries) > 50
    assert [msgid for msgid, msgstr in entries if not msgstr] == []
    assert "#, fuzzy" not in po
    mo = Path(settings.BASE_DIR) / "locale/ar/LC_MESSAGES/django.mo"
    assert mo.stat().st_size > 0


def test_portal_urls_are_named():
    assert reverse("portal:dashboard") == DASHBOARD and reverse("portal:pay") == PAY
