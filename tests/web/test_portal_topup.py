"""Online top-up from the customer portal, through Django's test client and the partners' signed callbacks.

The partner's page is the simulator (GET it as the browser would); its callback is sent with the same
signing helper the top-up tests use, so the wallet is credited exactly as in production. Every refusal is
shown on the form and starts no top-up. The whole flow over real HTTP runs in test_portal_topup_browser.py.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from erial.roles import Role
from ledger import wallets
from ledger.models import EntryKind, Posting
from ledger.selectors import balance
from tests.api.conftest import make_user
from tests.factories import D
from tests.parallel import in_parallel
from tests.topups.test_online_topups import callback
from tests.web.conftest import make_customer
from topups import services
from topups.models import OnlineTopup, TopupStatus

pytestmark = pytest.mark.django_db

START = "/portal/topup/"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def topup_form(client, **fields):
    body = {"amount": "25.000", "channel": "card", "idempotency_key": str(uuid.uuid4()), **fields}
    return client.post(START, body)


def started(client, customer, **fields) -> tuple[OnlineTopup, str]:
    """Submit the form; the top-up it started and where the browser was sent."""
    client.force_login(customer.user)
    response = topup_form(client, **fields)
    assert response.status_code == 302, text_of(response)
    return OnlineTopup.objects.filter(wallet=customer.wallet).latest("created_at"), response["Location"]


def test_the_form_offers_both_channels_with_a_fresh_key(client):
    customer = make_customer()
    client.force_login(customer.user)
    first, second = client.get(START), client.get(START)
    assert first.status_code == 200
    page = text_of(first)
    assert "Bank transfer" in page and "Debit or credit card" in page
    keys = [re.search(r'name="idempotency_key" value="([^"]+)"', r.content.decode())[1] for r in (first, second)]
    assert keys[0] != keys[1]
    assert first["Cache-Control"].startswith("max-age=0")


def test_the_dashboard_links_to_the_top_up_page(client):
    customer = make_customer()
    client.force_login(customer.user)
    assert 'action="/portal/topup/"' in client.get("/portal/").content.decode()


@pytest.mark.parametrize("channel", ["card", "bank"])
def test_top_up_pay_at_the_partner_and_come_back_to_the_receipt(client, channel):
    customer = make_customer("5.000")
    topup, partner = started(client, customer, amount="25.500", channel=channel)
    assert (topup.channel, topup.amount, topup.status) == (channel, D("25.500"), TopupStatus.INITIATED)
    assert topup.created_by == customer.user

    # The browser goes to the partner's page with our reference, the amount and where to come back.
    url = urlsplit(partner)
    query = parse_qs(url.query)
    assert url.path == f"/simulators/{channel}/pay/"
    assert query["reference"] == [topup.reference] and query["amount"] == ["25.500"]
    back = urlsplit(query["return_url"][0]).path
    assert back == f"/portal/topup/{topup.pk}/"
    assert topup.reference in client.get(partner).content.decode()

    # Back before the partner has called: waiting, with a way to check again; nothing credited yet.
    waiting = client.get(back)
    assert waiting.status_code == 200
    who = "the bank" if channel == "bank" else "the card gateway"
    assert f"Waiting for {who}" in text_of(waiting)
    assert f'action="{back}"' in waiting.content.decode()
    assert balance(customer.wallet.account) == D("5.000")

    assert callback(channel, reference=topup.reference, amount="25.500").status_code == 200
    done = client.get(back)
    topup = OnlineTopup.objects.get(pk=topup.pk)
    page = text_of(done)
    assert topup.status == TopupStatus.COMPLETED
    assert "Top-up done" in page and "25.500" in page
    assert f"Balance after the top-up {'30.500'} OMR" in page
    assert topup.receipt_number in page
    assert f'href="/portal/receipts/{topup.receipt_number}/pdf/"' in done.content.decode()
    assert balance(customer.wallet.account) == D("30.500")

    # The history lists it with the same receipt.
    dashboard = client.get("/portal/").content.decode()
    assert f"/portal/receipts/{topup.receipt_number}/pdf/" in dashboard


def test_the_balance_shown_is_the_one_right_after_the_credit(client):
    customer = make_customer("1.000")
    topup, _ = started(client, customer, amount="2.000")
    callback("card", reference=topup.reference, amount="2.000")
    later, _ = started(client, customer, amount="4.000")
    callback("card", reference=later.reference, amount="4.000", partner_txn_id="PTX-2")
    assert "Balance after the top-up 3.000 OMR" in text_of(client.get(f"/portal/topup/{topup.pk}/"))
    assert "Balance after the top-up 7.000 OMR" in text_of(client.get(f"/portal/topup/{later.pk}/"))


def test_a_declined_payment_says_so_and_credits_nothing(client):
    customer = make_customer("5.000")
    topup, _ = started(client, customer)
    callback("card", reference=topup.reference, amount="25.000", status="failed")
    response = client.get(f"/portal/topup/{topup.pk}/")
    page = text_of(response)
    assert "Top-up not done" in page and "Nothing was added" in page
    assert 'action="/portal/topup/"' in response.content.decode()  # start again
    assert "Receipt number" not in page
    assert balance(customer.wallet.account) == D("5.000")


def test_an_expired_top_up_explains_what_happens_to_a_late_payment(client):
    customer = make_customer()
    topup, _ = started(client, customer)
    services.expire_stale(now=timezone.now() + dt.timedelta(days=1))
    page = text_of(client.get(f"/portal/topup/{topup.pk}/"))
    assert "Top-up expired" in page and "as soon as the confirmation arrives" in page


def test_a_double_submitted_form_starts_one_top_up(client):
    customer = make_customer()
    client.force_login(customer.user)
    key = str(uuid.uuid4())
    first = topup_form(client, idempotency_key=key)
    second = topup_form(client, idempotency_key=key)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert OnlineTopup.objects.filter(wallet=customer.wallet).count() == 1


def test_a_form_reused_for_another_amount_is_refused(client):
    customer = make_customer()
    client.force_login(customer.user)
    key = str(uuid.uuid4())
    topup_form(client, idempotency_key=key, amount="10.000")
    response = topup_form(client, idempotency_key=key, amount="11.000")
    assert response.status_code == 400
    assert "already used for a different top-up" in text_of(response)
    assert list(OnlineTopup.objects.values_list("amount", flat=True)) == [D("10.000")]


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": "0"},
        {"amount": "0.000"},
        {"amount": "-5.000"},
        {"amount": "1.2345"},
        {"amount": "1e3"},
        {"amount": "12,5"},
        {"amount": ""},
        {"amount": "1000000.001"},
        {"channel": "cash"},
        {"channel": ""},
        {"idempotency_key": ""},
        {"idempotency_key": "not-a-uuid"},
    ],
)
def test_bad_input_is_refused_on_the_form_and_starts_nothing(client, fields):
    customer = make_customer()
    client.force_login(customer.user)
    response = topup_form(client, **fields)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not OnlineTopup.objects.exists()


def test_the_amount_error_says_what_is_expected(client):
    customer = make_customer()
    client.force_login(customer.user)
    page = text_of(topup_form(client, amount="1.2345"))
    assert "at most 3 decimals" in page


def test_arabic_digits_are_accepted(client):
    customer = make_customer()
    client.force_login(customer.user)
    assert topup_form(client, amount="١٢٫٥").status_code == 302
    assert OnlineTopup.objects.get().amount == D("12.500")


def test_a_frozen_wallet_cannot_be_topped_up(client):
    customer = make_customer()
    wallets.freeze_wallet(wallet=customer.wallet, actor=make_user(Role.ADMIN), reason="test")
    client.force_login(customer.user)
    assert "not active" in text_of(client.get(START))
    response = topup_form(client)
    assert response.status_code == 400
    assert "not active, so it cannot be topped up" in text_of(response)
    assert not OnlineTopup.objects.exists()


def test_someone_elses_or_an_unknown_top_up_does_not_exist(client):
    owner, other = make_customer(), make_customer()
    topup, _ = started(client, owner)
    client.force_login(other.user)
    assert client.get(f"/portal/topup/{topup.pk}/").status_code == 404
    assert client.get(f"/portal/topup/{uuid.uuid4()}/").status_code == 404
    assert client.get("/portal/topup/not-a-uuid/").status_code == 404
    client.force_login(make_user(Role.FINANCE))  # staff have no wallet here
    assert client.get(f"/portal/topup/{topup.pk}/").status_code == 404


def test_a_login_without_a_wallet_gets_the_no_wallet_page_and_starts_nothing(client):
    client.force_login(make_user(Role.FINANCE))
    assert client.get(START).status_code == 403
    assert topup_form(client).status_code == 403
    assert not OnlineTopup.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in_and_start_nothing(client):
    owner = make_customer()
    topup, _ = started(client, owner)
    client.logout()
    for response in (client.get(START), topup_form(client), client.get(f"/portal/topup/{topup.pk}/")):
        assert response.status_code == 302
        assert response["Location"].startswith("/portal/login/?next=")
    assert OnlineTopup.objects.count() == 1


def test_the_pages_read_in_arabic(client):
    customer = make_customer()
    client.force_login(customer.user)
    client.cookies["django_language"] = "ar"
    form = client.get(START).content.decode()
    assert 'dir="rtl"' in form and "بطاقة" in form
    topup, _ = started(client, customer)
    callback("card", reference=topup.reference, amount="25.000")
    topup = OnlineTopup.objects.get(pk=topup.pk)
    result = client.get(f"/portal/topup/{topup.pk}/").content.decode()
    assert 'dir="rtl"' in result and topup.receipt_number in result and "الإيصال" in result


def test_the_credit_is_an_online_top_up_entry_against_the_gateway(client):
    customer = make_customer()
    topup, _ = started(client, customer, amount="3.000")
    callback("card", reference=topup.reference, amount="3.000")
    topup = OnlineTopup.objects.get(pk=topup.pk)
    assert topup.entry.kind == EntryKind.ONLINE_TOPUP
    assert Posting.objects.filter(entry=topup.entry).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_form_submitted_four_times_at_once_starts_one_top_up():
    """Real parallel connections, one session: the wallet lock makes the later submissions find the first."""
    customer = make_customer()
    session_client = Client()
    session_client.force_login(customer.user)
    cookie = session_client.cookies[settings.SESSION_COOKIE_NAME].value
    key = str(uuid.uuid4())

    def submit(_: int) -> str:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        response = topup_form(client, idempotency_key=key)
        assert response.status_code == 302, text_of(response)
        return response["Location"]

    outcomes = in_parallel(4, submit)
    assert all(outcome.ok for outcome in outcomes), [outcome.error for outcome in outcomes]
    assert len({outcome.value for outcome in outcomes}) == 1
    assert OnlineTopup.objects.filter(wallet=customer.wallet).count() == 1
