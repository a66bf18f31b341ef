"""Receipts for online top-ups (bank, card gateway): drawn when the partner's authorisation is credited, read
and printed like every other receipt (JSON, A4 and 80 mm PDFs, public verification), shown to the same people.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import uuid
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.test import Client, RequestFactory
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from rest_framework.test import APIClient

from erial.errors import InvalidRequest, NotFound
from erial.roles import Role
from ledger.models import Entry, EntryKind
from ledger.receipts import NoFreeReceiptNumber, new_receipt_number, normalise_receipt_number
from ledger.selectors import balance
from ledger.verification import verify
from reports.receipt_lookup import receipt
from reports.receipts import render_receipt
from reports.verification import printed_code, verification_code, verification_path
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import D
from tests.reports.conftest import cash_receipt, needs_poppler, pdf_pngs, pdf_text
from topups import services as topups
from topups import signing
from topups.channels import channel as partner_channel
from topups.models import CallbackNonce, OnlineTopup, TopupStatus

pytestmark = pytest.mark.django_db

#: Arabic presentation forms: what shaped (joined) Arabic letters are drawn with.
PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")


def initiated(channel: str = "card", amount: str = "15.000", owner=None) -> OnlineTopup:
    owner = owner or make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    return topups.initiate(wallet=wallet, amount=D(amount), channel=channel, actor=owner)


def call_back(topup: OnlineTopup, *, status: str = "authorised", partner_txn_id: str | None = None) -> OnlineTopup:
    """The partner's signed callback for ``topup``, handled as the callback endpoint handles it."""
    body = json.dumps(
        {
            "reference": topup.reference,
            "status": status,
            "amount": f"{topup.amount:.3f}",
            "currency": "OMR",
            "partner_txn_id": partner_txn_id or f"PTX-{uuid.uuid4().hex[:8].upper()}",
            "nonce": uuid.uuid4().hex,
        }
    ).encode()
    header = signing.signature_header(body, partner_channel(topup.channel).secret)
    return topups.handle_callback(channel=topup.channel, body=body, signature_header=header)


def credited(channel: str = "card", amount: str = "15.000", owner=None, partner_txn_id: str | None = None):
    return call_back(initiated(channel, amount, owner), partner_txn_id=partner_txn_id)


def agent() -> APIClient:
    return client_for(make_cashier(make_office("external")).user)


# --- the number ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["bank", "card"])
def test_crediting_a_top_up_draws_its_receipt_number_and_the_api_shows_it(channel):
    owner = make_user(Role.CUSTOMER)
    topup = initiated(channel, "20.500", owner)
    client = client_for(owner)
    before = client.get(f"/api/v1/topups/online/{topup.pk}/").json()
    assert before["status"] == "initiated" and before["receipt_number"] is None
    call_back(topup)
    stored = OnlineTopup.objects.get(pk=topup.pk)
    assert stored.status == TopupStatus.COMPLETED
    assert normalise_receipt_number(stored.receipt_number) == stored.receipt_number  # R, 11 digits, check digit
    after = client.get(f"/api/v1/topups/online/{topup.pk}/").json()
    assert (after["status"], after["receipt_number"]) == ("completed", stored.receipt_number)
    finance = client_for(make_user(Role.FINANCE)).get(f"/api/v1/topups/online/{topup.pk}/").json()
    assert finance["receipt_number"] == stored.receipt_number
    assert client.get(f"/api/v1/receipts/{stored.receipt_number}/").json()["amount"] == "20.500"


def test_the_partner_retrying_keeps_the_first_receipt_number():
    topup = credited()
    again = OnlineTopup.objects.get(pk=topup.pk)
    call_back(again, partner_txn_id=topup.partner_txn_id)
    assert OnlineTopup.objects.get(pk=topup.pk).receipt_number == topup.receipt_number
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1


def test_numbers_differ_between_top_ups():
    numbers = {credited().receipt_number for _ in range(5)}
    assert len(numbers) == 5


def test_a_drawn_number_already_taken_is_drawn_again_and_the_top_up_credited_once():
    taken = credited().receipt_number
    topup = initiated(amount="7.250")
    fresh = new_receipt_number()
    with mock.patch("topups.services.new_receipt_number", side_effect=[taken, fresh]) as draw:
        call_back(topup)
    assert draw.call_count == 2
    stored = OnlineTopup.objects.select_related("wallet__account").get(pk=topup.pk)
    assert (stored.status, stored.receipt_number) == (TopupStatus.COMPLETED, fresh)
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP, reference=topup.reference).count() == 1
    assert balance(stored.wallet.account) == D("7.250")
    assert verify().ok


def test_a_generator_that_only_collides_credits_nothing():
    taken = credited().receipt_number
    topup = initiated(amount="7.250")
    entries = Entry.objects.count()
    with (
        mock.patch("topups.services.new_receipt_number", return_value=taken),
        pytest.raises(NoFreeReceiptNumber),
    ):
        call_back(topup)
    stored = OnlineTopup.objects.select_related("wallet__account").get(pk=topup.pk)
    assert (stored.status, stored.receipt_number, stored.partner_txn_id) == (TopupStatus.INITIATED, None, "")
    assert Entry.objects.count() == entries and balance(stored.wallet.account) == D("0.000")
    assert CallbackNonce.objects.count() == 1  # only the first top-up's: every attempt rolled back whole


@pytest.mark.parametrize("outcome", ["initiated", "failed", "expired"])
def test_a_top_up_not_credited_has_no_receipt(outcome):
    owner = make_user(Role.CUSTOMER)
    topup = initiated(owner=owner)
    if outcome == "failed":
        call_back(topup, status="failed")
    elif outcome == "expired":
        OnlineTopup.objects.filter(pk=topup.pk).update(expires_at=topup.created_at)
        assert topups.expire_stale() == 1
    stored = OnlineTopup.objects.get(pk=topup.pk)
    assert (stored.status, stored.receipt_number) == (outcome, None)
    assert client_for(owner).get(f"/api/v1/topups/online/{topup.pk}/").json()["receipt_number"] is None
    assert not OnlineTopup.objects.filter(receipt_number__isnull=False).exists()


def test_the_database_keeps_receipts_for_credited_top_ups_only():
    pending = initiated()
    done = credited()
    with pytest.raises(IntegrityError), transaction.atomic():
        OnlineTopup.objects.filter(pk=pending.pk).update(receipt_number=new_receipt_number())
    with pytest.raises(IntegrityError), transaction.atomic():
        OnlineTopup.objects.filter(pk=done.pk).update(receipt_number=None)
    assert OnlineTopup.objects.get(pk=pending.pk).receipt_number is None


# --- the receipt's data -------------------------------------------------------------------------------


def test_the_receipt_has_the_keys_of_the_others_and_the_channel_reference_and_partner_id():
    owner = make_user(Role.CUSTOMER)
    topup = credited("bank", "12.345", owner, partner_txn_id="BNK-2025-0042")
    data = receipt(topup.receipt_number)
    cash = receipt(cash_receipt()[0].receipt_number)
    shared = {"receipt_number", "kind", "created_at", "account", "holder_en", "holder_ar", "amount", "currency"}
    assert shared | {"owner_user_id"} <= set(cash) and shared | {"owner_user_id"} <= set(data)
    assert {key: data[key] for key in shared - {"created_at"}} == {
        "receipt_number": topup.receipt_number,
        "kind": "online_topup",
        "account": topup.wallet.number,
        "holder_en": "Salim Al-Harthy",
        "holder_ar": "سالم الحارثي",
        "amount": "12.345",
        "currency": "OMR",
    }
    assert data["created_at"] == topup.entry.created_at  # when the money arrived, not when it was initiated
    assert (data["channel"], data["channel_en"], data["channel_ar"]) == ("bank", "Partner bank", "البنك الشريك")
    assert (data["reference"], data["partner_txn_id"]) == (topup.reference, "BNK-2025-0042")
    assert data["owner_user_id"] == owner.pk


def test_the_lookup_normalises_like_the_others_and_refuses_typos_and_unknown_numbers():
    topup = credited()
    spaced = f"{topup.receipt_number[:4]} {topup.receipt_number[4:]}".lower()
    assert receipt(spaced)["receipt_number"] == topup.receipt_number
    with pytest.raises(InvalidRequest, match="mistyped"):
        receipt(topup.receipt_number[:-1] + str((int(topup.receipt_number[-1]) + 1) % 10))
    with pytest.raises(NotFound, match="No receipt"):
        receipt(new_receipt_number())


def test_the_receipt_as_json_with_its_verification_link():
    topup = credited("card", "15.000", partner_txn_id="GW-77")
    response = agent().get(f"/api/v1/receipts/{topup.receipt_number}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("kind", "amount", "channel", "reference", "partner_txn_id", "account")} == {
        "kind": "online_topup",
        "amount": "15.000",
        "channel": "card",
        "reference": topup.reference,
        "partner_txn_id": "GW-77",
        "account": topup.wallet.number,
    }
    assert "owner_user_id" not in body
    code = verification_code(topup.receipt_number)
    assert body["verification_code"] == code
    assert body["verification_url"] == f"http://testserver/verify/receipt/{topup.receipt_number}/{code}/"
    assert APIClient().get(body["verification_url"]).status_code == 200


# --- who may see it -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["", "?format=pdf", "?format=pdf&size=thermal"])
def test_the_owner_any_office_finance_and_admin_read_it_nobody_else(fmt):
    owner = make_user(Role.CUSTOMER)
    url = f"/api/v1/receipts/{credited(owner=owner).receipt_number}/{fmt}"
    for client in [client_for(owner), agent(), client_for(make_user(Role.FINANCE)), client_for(make_user(Role.ADMIN))]:
        assert client.get(url).status_code == 200
    for role in (Role.CUSTOMER, Role.SERVICE, None):
        assert_problem(client_for(make_user(role)).get(url), 404, "not_found")
    assert_problem(APIClient().get(url), 401, "forbidden")


def test_unknown_and_mistyped_numbers_are_refused():
    number = credited().receipt_number
    client = agent()
    assert_problem(client.get(f"/api/v1/receipts/{new_receipt_number()}/"), 404, "not_found")
    assert_problem(client.get(f"/api/v1/receipts/{new_receipt_number()}/?format=pdf"), 404, "not_found")
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert_problem(client.get(f"/api/v1/receipts/{typo}/"), 400, "invalid_request")
    assert_problem(client.get(f"/api/v1/receipts/{number}/?format=pdf&size=a5"), 400, "invalid_request")


def test_the_counter_prints_it_at_any_office_and_nobody_else_does():
    number = credited().receipt_number
    url = f"/counter/receipts/{number}/pdf/"
    client = Client()
    assert client.get(url).status_code == 302  # to the counter's login
    client.force_login(make_user(Role.CUSTOMER))
    assert client.get(url).status_code == 404
    client.force_login(make_cashier(make_office("internal")).user)
    for size in ("thermal", "a4"):
        response = client.get(url, {"size": size})
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    assert client.get(f"/counter/receipts/{new_receipt_number()}/pdf/").status_code == 404


# --- the PDF ------------------------------------------------------------------------------------------


@needs_poppler
@pytest.mark.parametrize("size", ["a4", "thermal"])
@pytest.mark.parametrize(
    ("channel", "channel_en", "channel_ar"),
    [("bank", "Partner bank", "البنك الشريك"), ("card", "Card payment gateway", "بوابة الدفع بالبطاقات")],
)
def test_the_pdf_read_back_in_logical_order_with_shaped_arabic(channel, channel_en, channel_ar, size, tmp_path):
    topup = credited(channel, "15.000", partner_txn_id="PTX-90210")
    data = receipt_data(topup.receipt_number)
    pdf = render_receipt(data, size=size)
    raw = pdf_text_raw(pdf, tmp_path)
    assert PRESENTATION_FORMS.search(raw), "Arabic drawn unshaped (no joined letter forms)"
    text = pdf_text(pdf, tmp_path)
    english = ["Online top-up receipt", "Paid through", channel_en, "Top-up reference", topup.reference]
    english += ["Partner transaction no.", "PTX-90210", "15.000 OMR", topup.receipt_number, data["account"]]
    english.append(printed_code(data["verification_code"]))
    arabic = ["إيصال إيداع إلكتروني", "طريقة الدفع", channel_ar, "مرجع الإيداع", "رقم الإيصال", "سالم الحارثي"]
    arabic += ["رقم العملية لدى الشريك", "المبلغ", "رمز التحقق", "بلدية مسقط"]
    for expected in english + arabic:
        assert expected in text, f"{expected!r} (logical order) missing from:\n{text}"
    assert "Cash top-up" not in text and "Office" not in text


@needs_poppler
def test_both_sizes_render_to_one_page_of_their_paper(tmp_path):
    data = receipt_data(credited().receipt_number)
    (a4,) = pdf_pngs(render_receipt(data, size="a4"), tmp_path, name="a4")
    assert Image.open(a4).size == (math.ceil(A4[0]), math.ceil(A4[1]))  # pdftoppm rounds up
    (thermal,) = pdf_pngs(render_receipt(data, size="thermal"), tmp_path, name="thermal")
    width, height = Image.open(thermal).size
    assert width == math.ceil(80 * mm) and 120 * mm < height < A4[1]


def receipt_data(number: str) -> dict:
    """What the API hands the renderer: the receipt (found by the lookup every reader uses) and its verification."""
    data = receipt(number)
    data.pop("owner_user_id")
    data["verification_code"] = verification_code(number)
    data["verification_url"] = RequestFactory().get("/").build_absolute_uri(verification_path(number))
    return data


def pdf_text_raw(pdf: bytes, tmp_path) -> str:
    """pdftotext's output as extracted, before NFKC folds the shaped forms back into letters."""
    path = tmp_path / "raw.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout


# --- public verification ------------------------------------------------------------------------------


def page(number: str, code: str):
    return Client().get(f"/verify/receipt/{number}/{code}/")


def test_the_verification_page_accepts_the_signed_code_and_masks_the_holder():
    topup = credited("bank", "9.500")
    response = page(topup.receipt_number, verification_code(topup.receipt_number))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in ("Genuine receipt", "Online top-up", "إيداع إلكتروني", "9.500 OMR", "9.500 ر.ع.", "S*** Al-H***"):
        assert shown in html
    for private in (topup.wallet.number, "Salim", "سالم", topup.wallet.holder.national_id):
        assert private not in html


def test_a_forged_or_misapplied_code_is_refused():
    topup = credited(amount="9.500")
    code = verification_code(topup.receipt_number)
    forged = ("A" if code[0] != "A" else "B") + code[1:]
    other = credited().receipt_number
    for number, given in [(topup.receipt_number, forged), (other, code), (new_receipt_number(), code)]:
        response = page(number, given)
        assert response.status_code == 404 and "9.500" not in response.content.decode()
        assert "Not a genuine receipt" in response.content.decode()


def test_a_pending_top_up_has_nothing_to_verify():
    topup = initiated()
    assert topup.receipt_number is None
    number = new_receipt_number()  # the number it would have had: nothing was issued under it
    assert page(number, verification_code(number)).status_code == 404
    assert balance(topup.wallet.account) == D("0.000")
