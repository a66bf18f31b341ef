"""The cashier's counter through Django's test client: every page, every refusal, both languages.

A refusal is shown on the page and writes nothing: the ledger snapshot, the top-ups and the sessions are
the same before and after. Another office's top-ups and sessions do not exist from a cashier's counter.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from unittest import mock

import pytest
from django.utils import timezone

from agents import services
from agents.models import CashierSession, CashTopup, LimitKind, SessionStatus
from ledger import payments, wallets
from ledger.models import Service
from ledger.selectors import balance
from tests.agents.conftest import make_cashier, make_office, set_limit, topup
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, pay
from tests.web.conftest import PASSWORD, make_customer

pytestmark = pytest.mark.django_db

HOME, LOGIN, OPEN, SESSION, RECEIPTS = (
    "/counter/",
    "/counter/login/",
    "/counter/session/open/",
    "/counter/session/",
    "/counter/receipts/",
)


def text_of(response) -> str:
    """The page's visible text, roughly: tags and direction isolates dropped, whitespace collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", text.replace("\u2066", "").replace("\u2069", ""))


def confirm_url(wallet) -> str:
    return f"/counter/wallet/{wallet.number}/confirm/"


def at_counter(client, cashier):
    client.force_login(cashier.user)
    return client


def open_for(cashier, opening: str = "20.000") -> CashierSession:
    return services.open_session(cashier=cashier, opening_cash=D(opening))


def confirm(client, wallet, amount: str = "10.000", key: str | None = None):
    """POST the confirmation as the page renders it: the amount and the form's idempotency key."""
    return client.post(confirm_url(wallet), {"amount": amount, "idempotency_key": key or str(uuid.uuid4())})


def the_world(ledger_snapshot):
    """Everything a refusal at the counter must leave untouched."""
    return ledger_snapshot(), CashTopup.objects.count(), CashierSession.objects.count()


@pytest.fixture
def office():
    return make_office("external", float_="100.000")


@pytest.fixture
def cashier(office):
    return make_cashier(office)


@pytest.fixture
def counter(client, cashier):
    """A cashier logged in at the counter with an open session (opening cash 20.000)."""
    open_for(cashier)
    return at_counter(client, cashier)


# --- who may use the counter --------------------------------------------------------------------------


def test_pages_need_a_cashier_login(client, ledger_snapshot):
    wallet = open_wallet()
    before = ledger_snapshot()
    for url in (HOME, OPEN, SESSION, RECEIPTS, f"/counter/topup/{uuid.uuid4()}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(f"{LOGIN}?next="), url
    assert client.post(confirm_url(wallet), {"amount": "1.000"}).status_code == 302
    assert ledger_snapshot() == before


def test_a_cashier_logs_in_and_is_asked_to_open_the_session(client, cashier):
    cashier.user.set_password(PASSWORD)
    cashier.user.save()
    page = client.get(LOGIN)
    assert page.status_code == 200 and "Cashier log in" in text_of(page)
    assert "autofocus" in page.content.decode()
    response = client.post(LOGIN, {"username": cashier.user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == HOME
    assert client.get(HOME)["Location"] == OPEN


def test_other_logins_are_refused_at_the_counter(client):
    customer = make_customer()
    response = client.post(LOGIN, {"username": customer.national_id, "password": PASSWORD})
    assert response.status_code == 200
    assert "This login is not a cashier's" in text_of(response)
    assert "_auth_user_id" not in client.session
    response = client.post(LOGIN, {"username": "nobody", "password": "wrong"})
    assert "The username or the password is not right" in text_of(response)


def test_a_logged_in_non_cashier_sees_no_counter_page(client, ledger_snapshot):
    client.force_login(make_customer().user)
    before = ledger_snapshot()
    for url in (HOME, OPEN, SESSION, RECEIPTS):
        response = client.get(url)
        assert response.status_code == 403 and "Not a cashier" in text_of(response)
    assert client.post(OPEN, {"opening_cash": "1.000"}).status_code == 403
    assert ledger_snapshot() == before and not CashierSession.objects.exists()


def test_logout_returns_to_the_login(counter):
    response = counter.post("/counter/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN


# --- the session --------------------------------------------------------------------------------------


def test_no_session_sends_every_money_page_to_open_one(client, cashier, ledger_snapshot):
    at_counter(client, cashier)
    wallet = open_wallet()
    before = ledger_snapshot()
    for url in (HOME, SESSION, f"/counter/wallet/{wallet.number}/", confirm_url(wallet) + "?amount=1.000"):
        assert client.get(url)["Location"] == OPEN, url
    assert confirm(client, wallet)["Location"] == OPEN
    assert ledger_snapshot() == before and not CashTopup.objects.exists()


def test_open_the_session_with_the_opening_cash(client, cashier):
    at_counter(client, cashier)
    page = client.get(OPEN)
    assert page.status_code == 200 and "Open your session" in text_of(page)
    response = client.post(OPEN, {"opening_cash": "25.5"})
    assert response.status_code == 302 and response["Location"] == HOME
    session = CashierSession.objects.get(cashier=cashier)
    assert (session.status, session.opening_cash) == (SessionStatus.OPEN, D("25.500"))
    # the form submitted again (or the page revisited) finds the session open
    assert client.post(OPEN, {"opening_cash": "25.5"})["Location"] == HOME
    assert client.get(OPEN)["Location"] == HOME
    assert CashierSession.objects.filter(cashier=cashier).count() == 1


@pytest.mark.parametrize("opening", ["", "-1", "1.2345", "abc", "1e3"])
def test_a_bad_opening_cash_is_refused(client, cashier, ledger_snapshot, opening):
    at_counter(client, cashier)
    before = the_world(ledger_snapshot)
    response = client.post(OPEN, {"opening_cash": opening})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert the_world(ledger_snapshot) == before


def test_a_suspended_office_cannot_open_a_session(client, office, cashier, ledger_snapshot):
    services.suspend_office(office=office, actor=None, reason="Audit")
    at_counter(client, cashier)
    before = the_world(ledger_snapshot)
    response = client.post(OPEN, {"opening_cash": "10.000"})
    assert response.status_code == 200
    assert "This office is not active" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_session_page_lists_the_top_ups_and_the_expected_cash(counter, cashier):
    session = CashierSession.objects.get(cashier=cashier)
    wallet = open_wallet()
    kept = topup(session, wallet, "12.500")
    voided = topup(session, wallet, "3.000")
    services.void_cash_topup(topup=voided, actor=cashier.user, reason="Wrong amount", idempotency_key="v")
    page = counter.get(SESSION)
    text = text_of(page)
    assert kept.receipt_number in text and voided.receipt_number in text
    assert "1 top-up 12.500" in text and "1 voided 3.000" in text
    assert re.search(r'data-testid="expected-cash">32\.500<', page.content.decode())


def test_close_with_the_exact_count(counter, cashier):
    session = CashierSession.objects.get(cashier=cashier)
    topup(session, open_wallet(), "5.000")
    response = counter.post(f"/counter/session/{session.pk}/close/", {"counted_cash": "25.000", "note": ""})
    assert response.status_code == 302 and response["Location"] == f"/counter/session/{session.pk}/"
    summary = counter.get(response["Location"])
    text = text_of(summary)
    assert "Session closed" in text and "25.000" in text
    assert re.search(r'data-testid="difference">0\.000<', summary.content.decode())
    session = CashierSession.objects.get(pk=session.pk)
    assert (session.status, session.counted_cash) == (SessionStatus.CLOSED, D("25.000"))
    # submitted twice: the second lands on the same summary, and nothing changes
    again = counter.post(f"/counter/session/{session.pk}/close/", {"counted_cash": "25.000", "note": ""})
    assert again["Location"] == response["Location"]
    # now the counter asks for a new session
    assert counter.get(HOME)["Location"] == OPEN
    assert counter.get(f"/counter/session/{session.pk}/").status_code == 200


def test_a_count_that_differs_needs_a_note(counter, cashier, ledger_snapshot):
    session = CashierSession.objects.get(cashier=cashier)
    topup(session, open_wallet(), "5.000")
    before = the_world(ledger_snapshot)
    response = counter.post(f"/counter/session/{session.pk}/close/", {"counted_cash": "24.750", "note": ""})
    assert response.status_code == 200
    assert "The count differs from the expected 25.000 OMR by -0.250 OMR: write a note." in text_of(response)
    assert the_world(ledger_snapshot) == before
    session = CashierSession.objects.get(pk=session.pk)
    assert session.status == SessionStatus.OPEN
    response = counter.post(
        f"/counter/session/{session.pk}/close/", {"counted_cash": "24.750", "note": "Short, checked by Salma"}
    )
    assert response.status_code == 302
    session = CashierSession.objects.get(pk=session.pk)
    assert (session.status, session.difference, session.supervisor_note) == (
        SessionStatus.CLOSED,
        D("-0.250"),
        "Short, checked by Salma",
    )
    assert "Short, checked by Salma" in text_of(counter.get(response["Location"]))


def test_a_bad_count_is_refused(counter, cashier, ledger_snapshot):
    session = CashierSession.objects.get(cashier=cashier)
    before = the_world(ledger_snapshot)
    response = counter.post(f"/counter/session/{session.pk}/close/", {"counted_cash": "-1", "note": ""})
    assert response.status_code == 200 and "Enter the cash in rials" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_another_cashiers_session_cannot_be_closed_or_seen(counter, office, ledger_snapshot):
    other = make_cashier(office)
    theirs = open_for(other)
    before = the_world(ledger_snapshot)
    assert counter.post(f"/counter/session/{theirs.pk}/close/", {"counted_cash": "20.000"}).status_code == 404
    assert counter.get(f"/counter/session/{theirs.pk}/").status_code == 404
    assert the_world(ledger_snapshot) == before


def test_yesterdays_open_session_is_flagged_and_takes_no_cash(client, cashier, ledger_snapshot):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - dt.timedelta(days=1)):
        open_for(cashier)
    at_counter(client, cashier)
    assert "is still open: close it with the count" in text_of(client.get(HOME))
    wallet = open_wallet()
    before = the_world(ledger_snapshot)
    response = confirm(client, wallet)
    assert "Your session is closed or is from an earlier day" in text_of(response)
    assert the_world(ledger_snapshot) == before


# --- finding the wallet -------------------------------------------------------------------------------


def search(client, query: str):
    return client.get(HOME, {"q": query})


def test_the_search_box_has_the_focus(counter):
    page = counter.get(HOME)
    assert re.search(r'<input[^>]*name="q"[^>]*autofocus', page.content.decode())


def test_find_a_wallet_by_number_civil_id_or_phone(counter):
    wallet = open_wallet(national_id="12345678901")
    wallets.open_wallet(
        holder_type="individual", national_id="555666", phone="99887766", name_en="Other Person", channel="office"
    )
    grouped = f"{wallet.number[:4]} {wallet.number[4:]}"
    for query in (wallet.number, grouped, "12345678901", "9123 4567", "+968 9123 4567", "٩١٢٣٤٥٦٧"):
        page = search(counter, query)
        html = page.content.decode()
        assert page.status_code == 200
        assert f"/counter/wallet/{wallet.number}/" in html, query
        assert "Other Person" not in html, query
    # the first result takes the focus, so Enter picks it
    assert re.search(r'<a[^>]*href="/counter/wallet/\d{8}/"[^>]*autofocus', html)
    assert not re.search(r'<input[^>]*name="q"[^>]*autofocus', html)


def test_at_most_ten_wallets_answer_a_search(counter):
    for _ in range(12):
        open_wallet()  # all with the phone 91234567
    page = search(counter, "91234567")
    assert len(re.findall(r'href="/counter/wallet/\d{8}/"', page.content.decode())) == 10


def test_a_mistyped_account_number_is_called_mistyped(counter):
    wallet = open_wallet()
    wrong = wallet.number[:-1] + str((int(wallet.number[-1]) + 1) % 10)
    page = search(counter, wrong)
    assert "This account number is mistyped" in text_of(page)
    assert f"/counter/wallet/{wallet.number}/" not in page.content.decode()


def test_nothing_found_and_nonsense_queries(counter):
    assert "No account found" in text_of(search(counter, "4444"))
    assert "Type an account number (8 digits)" in text_of(search(counter, "Salim"))
    assert "Type an account number (8 digits)" in text_of(search(counter, "   "))


def test_an_unknown_or_mistyped_number_in_the_address_is_404(counter):
    assert counter.get("/counter/wallet/12345678/").status_code == 404
    assert counter.get("/counter/wallet/abc/confirm/?amount=1").status_code == 404


# --- taking the cash ----------------------------------------------------------------------------------


def test_amount_then_confirm_shows_who_and_how_much(counter):
    wallet = open_wallet()
    page = counter.get(f"/counter/wallet/{wallet.number}/")
    assert "Salim Al-Harthy" in text_of(page)
    assert re.search(r'<input[^>]*name="amount"[^>]*autofocus', page.content.decode())
    page = counter.get(confirm_url(wallet), {"amount": "12.5"})
    html = page.content.decode()
    assert page.status_code == 200 and "Confirm the top-up" in text_of(page)
    assert 'data-testid="confirm-amount">12.500<' in html
    assert f'data-testid="account-number">{wallet.number[:4]} {wallet.number[4:]}<' in html
    assert re.search(r'name="idempotency_key" value="[0-9a-f-]{36}"', html)
    assert not CashTopup.objects.exists()  # seeing the confirmation takes nothing


@pytest.mark.parametrize("amount", ["", "0", "-5", "1.2345", "abc", "1e2", "2000000"])
def test_a_bad_amount_is_refused(counter, ledger_snapshot, amount):
    wallet = open_wallet()
    before = the_world(ledger_snapshot)
    page = counter.get(confirm_url(wallet), {"amount": amount})
    assert "Confirm the top-up" not in text_of(page)
    assert "Enter an amount above zero in rials" in text_of(page)
    response = confirm(counter, wallet, amount)
    assert response.status_code == 200 and "Enter an amount above zero in rials" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_confirm_tops_up_and_shows_the_receipt(counter, office):
    wallet = open_wallet()
    response = confirm(counter, wallet, "10.000")
    topup_ = CashTopup.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/counter/topup/{topup_.pk}/"
    assert balance(wallet.account) == D("10.000")
    assert balance(office.cash_account) == D("90.000")
    page = counter.get(response["Location"])
    html = page.content.decode()
    assert f'data-testid="receipt-number">{topup_.receipt_number}<' in html
    assert 'data-testid="topup-amount">10.000<' in html
    assert f"/counter/receipts/{topup_.receipt_number}/pdf/?size=thermal" in html
    assert f"/counter/receipts/{topup_.receipt_number}/pdf/?size=a4" in html
    assert "Void this top-up" in text_of(page)
    # shown in Muscat time (UTC+4)
    muscat = timezone.localtime(topup_.created_at, dt.timezone(dt.timedelta(hours=4)))
    assert muscat.strftime("%H:%M") in text_of(page)


def test_the_same_confirmation_posted_twice_tops_up_once(counter):
    wallet = open_wallet()
    key = str(uuid.uuid4())
    first = confirm(counter, wallet, "7.000", key)
    second = confirm(counter, wallet, "7.000", key)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert CashTopup.objects.count() == 1
    assert balance(wallet.account) == D("7.000")


def test_a_confirmation_without_its_key_is_refused(counter, ledger_snapshot):
    wallet = open_wallet()
    before = the_world(ledger_snapshot)
    response = counter.post(confirm_url(wallet), {"amount": "1.000"})
    assert "This form has expired" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_a_suspended_office_takes_no_cash(counter, office, ledger_snapshot):
    wallet = open_wallet()
    services.suspend_office(office=office, actor=None, reason="Audit")
    before = the_world(ledger_snapshot)
    response = confirm(counter, wallet)
    assert response.status_code == 200
    assert "This office is not active (suspended or not yet opened): it cannot take cash now." in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_an_exhausted_float_is_refused(counter, ledger_snapshot):
    wallet = open_wallet()
    before = the_world(ledger_snapshot)
    response = confirm(counter, wallet, "100.001")  # the float holds 100.000 and there is no credit
    assert "The office's float (with its credit limit) does not cover this top-up" in text_of(response)
    assert the_world(ledger_snapshot) == before
    assert confirm(counter, wallet, "100.000").status_code == 302  # exactly the float is fine


def test_a_limit_is_refused_with_what_is_left(counter, ledger_snapshot):
    set_limit(LimitKind.WALLET_DAILY, "15.000")
    wallet = open_wallet()
    confirm(counter, wallet, "10.000")
    before = the_world(ledger_snapshot)
    response = confirm(counter, wallet, "6.000")
    text = text_of(response)
    assert "Over the limit for this account today: the limit is 15.000 OMR and 5.000 OMR is left." in text
    assert re.search(r'<input[^>]*name="amount"[^>]*value="6.000"', response.content.decode())
    assert the_world(ledger_snapshot) == before


def test_a_frozen_wallet_is_refused(counter, ledger_snapshot):
    wallet = open_wallet()
    wallets.freeze_wallet(wallet=wallet, actor=make_user(None), reason="Court order")
    assert "frozen or closed" in text_of(counter.get(f"/counter/wallet/{wallet.number}/"))
    before = the_world(ledger_snapshot)
    response = confirm(counter, wallet)
    assert "This e-Rial account is frozen or closed" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_a_key_reused_for_another_amount_is_refused(counter, ledger_snapshot):
    wallet = open_wallet()
    key = str(uuid.uuid4())
    confirm(counter, wallet, "1.000", key)
    before = the_world(ledger_snapshot)
    response = confirm(counter, wallet, "2.000", key)
    assert "This form was already used for a different top-up" in text_of(response)
    assert the_world(ledger_snapshot) == before


# --- voids --------------------------------------------------------------------------------------------


def void(client, topup_, reason: str = "Wrong account", key: str | None = None):
    return client.post(
        f"/counter/topup/{topup_.pk}/void/", {"reason": reason, "idempotency_key": key or str(uuid.uuid4())}
    )


def test_void_within_the_session(counter, cashier, office):
    wallet = open_wallet()
    topup_ = topup(CashierSession.objects.get(cashier=cashier), wallet, "8.000")
    response = void(counter, topup_)
    assert response.status_code == 302 and response["Location"] == f"/counter/topup/{topup_.pk}/"
    topup_.refresh_from_db()
    assert topup_.is_voided
    assert balance(wallet.account) == D("0.000") and balance(office.cash_account) == D("100.000")
    page = counter.get(response["Location"])
    assert "Top-up voided" in text_of(page) and "Void this top-up" not in text_of(page)
    assert void(counter, topup_).status_code == 302  # a second click: voided once
    assert balance(wallet.account) == D("0.000")


def test_a_void_needs_a_reason(counter, cashier, ledger_snapshot):
    topup_ = topup(CashierSession.objects.get(cashier=cashier), open_wallet(), "8.000")
    before = the_world(ledger_snapshot)
    response = void(counter, topup_, reason="")
    assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()
    assert the_world(ledger_snapshot) == before


def test_another_offices_top_up_cannot_be_seen_or_voided(counter, ledger_snapshot):
    elsewhere = make_office("external", float_="50.000")
    their_session = open_for(make_cashier(elsewhere))
    theirs = topup(their_session, open_wallet(), "5.000")
    before = the_world(ledger_snapshot)
    assert counter.get(f"/counter/topup/{theirs.pk}/").status_code == 404
    assert void(counter, theirs).status_code == 404
    assert the_world(ledger_snapshot) == before
    theirs.refresh_from_db()
    assert not theirs.is_voided


def test_a_colleagues_top_up_cannot_be_voided(counter, office, ledger_snapshot):
    colleague = make_cashier(office)
    theirs = topup(open_for(colleague), open_wallet(), "5.000")
    page = counter.get(f"/counter/topup/{theirs.pk}/")
    assert page.status_code == 200 and "Void this top-up" not in text_of(page)
    before = the_world(ledger_snapshot)
    response = void(counter, theirs)
    assert "Only the cashier who took the top-up may void it" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_no_void_once_the_wallet_spent_the_money(counter, cashier, ledger_snapshot):
    wallet = open_wallet()
    topup_ = topup(CashierSession.objects.get(cashier=cashier), wallet, "10.000")
    pay(wallet.account, "5.000")
    before = the_world(ledger_snapshot)
    response = void(counter, topup_)
    assert response.status_code == 200
    assert "The account no longer holds this money" in text_of(response)
    assert the_world(ledger_snapshot) == before


def test_no_void_after_the_session_closed(counter, cashier, ledger_snapshot):
    session = CashierSession.objects.get(cashier=cashier)
    topup_ = topup(session, open_wallet(), "10.000")
    services.close_session(session=session, counted_cash=D("30.000"), actor=cashier.user)
    page = counter.get(f"/counter/topup/{topup_.pk}/")
    assert page.status_code == 200 and "Void this top-up" not in text_of(page)
    before = the_world(ledger_snapshot)
    response = void(counter, topup_)
    assert "Your session is closed" in text_of(response)
    assert the_world(ledger_snapshot) == before


# --- receipts -----------------------------------------------------------------------------------------


def test_any_offices_receipt_can_be_looked_up(counter):
    elsewhere = make_office("internal")
    theirs = topup(open_for(make_cashier(elsewhere)), open_wallet(), "4.000")
    page = counter.get(RECEIPTS, {"number": theirs.receipt_number.lower()})
    text = text_of(page)
    assert "Cash top-up" in text and f"Office {elsewhere.code}" in text
    assert 'data-testid="receipt-amount">4.000<' in page.content.decode()
    assert f"/counter/receipts/{theirs.receipt_number}/pdf/?size=thermal" in page.content.decode()


def test_a_payment_receipt_can_be_looked_up(counter):
    wallet = open_wallet("20.000")
    payment = payments.pay_fee(
        wallet=wallet,
        service=Service.objects.get(code="lease_renewal"),
        bill_reference="L-77",
        amount=D("2.000"),
        actor=make_user(None),
        idempotency_key="pay-1",
        scope="test",
    )
    text = text_of(counter.get(RECEIPTS, {"number": payment.receipt_number}))
    assert "Bill payment" in text and "L-77" in text and "2.100" in text


def _paid(bill: str, service: str = "parking_fine", amount: str = "2.000", instalment: bool = False):
    return payments.pay_fee(
        wallet=open_wallet("20.000"),
        service=Service.objects.get(code=service),
        bill_reference=bill,
        amount=D(amount),
        actor=make_user(None),
        idempotency_key=uuid.uuid4().hex,
        scope="test",
        instalment=instalment,
    )


def test_a_payment_is_found_by_its_bill_when_the_receipt_number_is_lost(counter, ledger_snapshot):
    first = _paid("PF-2026-118", amount="5.000")
    second = _paid("PF-2026-118", amount="5.000", instalment=True)
    _paid("PF-2026-118", amount="1.000", instalment=True)  # another amount
    _paid("pf-2026-118", service="parking_permit", amount="5.000")  # another service
    _paid("PF-2026-119", amount="5.000")
    before = ledger_snapshot()
    page = counter.get(RECEIPTS, {"bill": " pf-2026-118 ", "service": "parking_fine", "amount": "5.000"})
    listed = page.content.decode()
    found = re.findall(r"\?number=(R\d+)", listed)
    # newest first, any letter case, this service and amount only; each links to its receipt
    assert found == [second.receipt_number, first.receipt_number]
    assert "2 payments of this bill" in text_of(page) and "5.100" in listed
    # the total with the service fee finds the same payments
    by_total = counter.get(RECEIPTS, {"bill": "PF-2026-118", "service": "parking_fine", "amount": "5.100"})
    assert re.findall(r"\?number=(R\d+)", by_total.content.decode()) == found
    shown = text_of(counter.get(RECEIPTS, {"number": first.receipt_number}))
    assert "Bill payment" in shown and "PF-2026-118" in shown
    assert ledger_snapshot() == before  # looking up writes nothing


@pytest.mark.parametrize(
    "wrong",
    [
        {"amount": "5.001"},  # not the amount paid
        {"service": "parking_permit"},  # not the service paid
        {"bill": "PF-2026-11"},  # a prefix is not the reference
    ],
)
def test_a_bill_lookup_lists_nothing_unless_reference_service_and_amount_all_match(counter, wrong):
    _paid("PF-2026-118", amount="5.000")
    query = {"bill": "PF-2026-118", "service": "parking_fine", "amount": "5.000", **wrong}
    page = counter.get(RECEIPTS, query)
    assert "No payment of this bill for this service and amount." in text_of(page)
    assert not re.findall(r"\?number=(R\d+)", page.content.decode())


@pytest.mark.parametrize(
    "query, field_error",
    [
        ({"bill": "PF-2026-118", "amount": "5.000"}, "This field is required."),  # no service: never "all"
        ({"bill": "PF-2026-118", "service": "parking_fine"}, "The bill's amount, or the total paid"),
        ({"bill": "PF-2026-118", "service": "parking_fine", "amount": "5.0001"}, "The bill's amount, or the total"),
        ({"bill": "PF-2026-118", "service": "parking_fine", "amount": "-5"}, "The bill's amount, or the total"),
        ({"bill": "PF-2026-118", "service": "no_such", "amount": "5.000"}, "Select a valid choice."),
    ],
)
def test_a_bill_lookup_without_service_or_with_a_bad_amount_is_refused_and_lists_nothing(
    counter, ledger_snapshot, query, field_error
):
    _paid("PF-2026-118", amount="5.000")
    before = ledger_snapshot()
    page = counter.get(RECEIPTS, query)
    text = text_of(page)
    assert "Please correct the marked fields." in text and field_error in text
    assert "payments of this bill" not in text and "payment of this bill" not in text
    assert not re.findall(r"\?number=(R\d+)", page.content.decode())
    assert ledger_snapshot() == before


def test_an_unknown_bill_or_an_empty_one_finds_nothing_and_says_so(counter):
    unknown = text_of(counter.get(RECEIPTS, {"bill": "NO-SUCH-BILL", "service": "parking_fine", "amount": "1.000"}))
    assert "No payment of this bill for this service and amount." in unknown
    empty = text_of(counter.get(RECEIPTS, {"bill": "", "service": "parking_fine", "amount": "1.000"}))
    assert "Please correct the marked fields." in empty and "payments of this bill" not in empty


def test_the_bill_lookup_speaks_arabic(counter):
    _paid("PF-77")
    text = text_of(
        counter.get(
            RECEIPTS, {"bill": "PF-77", "service": "parking_fine", "amount": "٢٫٠٠٠"}, HTTP_ACCEPT_LANGUAGE="ar"
        )
    )
    assert "مدفوعات هذه الفاتورة: 1" in text and "ابحث عن الدفعة" in text and "المبلغ المدفوع" in text


def test_an_online_top_up_receipt_can_be_looked_up_at_any_office(counter):
    from tests.reports.test_online_topup_receipts import credited

    topup_ = credited("bank", "7.500", partner_txn_id="BANK-42")
    page = counter.get(RECEIPTS, {"number": topup_.receipt_number})
    text = text_of(page)
    assert "Online top-up" in text and "Paid through" in text and "BANK-42" in text
    assert 'data-testid="receipt-amount">7.500<' in page.content.decode()
    arabic = text_of(counter.get(RECEIPTS, {"number": topup_.receipt_number}, HTTP_ACCEPT_LANGUAGE="ar"))
    assert "طريقة الدفع" in arabic


def test_a_mistyped_or_unknown_receipt_number(counter, cashier):
    topup_ = topup(CashierSession.objects.get(cashier=cashier), open_wallet(), "1.000")
    wrong = topup_.receipt_number[:-1] + str((int(topup_.receipt_number[-1]) + 1) % 10)
    assert "it is mistyped" in text_of(counter.get(RECEIPTS, {"number": wrong}))
    assert "it is mistyped" in text_of(counter.get(RECEIPTS, {"number": "hello"}))
    assert "No receipt has this number" in text_of(counter.get(RECEIPTS, {"number": "R00000000000"}))
    assert "Find a receipt" in text_of(counter.get(RECEIPTS))


def test_receipt_pdfs_for_cashiers_only(client, cashier, office):
    topup_ = topup(open_for(cashier), open_wallet(), "6.000")
    url = f"/counter/receipts/{topup_.receipt_number}/pdf/"
    assert client.get(url)["Location"].startswith(f"{LOGIN}?next=")
    client.force_login(make_customer().user)
    assert client.get(url).status_code == 404
    at_counter(client, cashier)
    for size in ("thermal", "a4"):
        response = client.get(url, {"size": size})
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert "no-store" in response["Cache-Control"]
    assert client.get(url, {"size": "letter"}).status_code == 400
    assert client.get("/counter/receipts/R00000000000/pdf/").status_code == 404
    assert client.get("/counter/receipts/nonsense/pdf/").status_code == 404


# --- both languages -----------------------------------------------------------------------------------


def test_the_counter_in_arabic(counter, cashier):
    counter.cookies["django_language"] = "ar"
    wallet = open_wallet()
    page = counter.get(HOME)
    html = page.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "شحن حساب" in text_of(page)
    page = counter.get(confirm_url(wallet), {"amount": "١٢٫٥"})  # Arabic-Indic digits are understood
    assert 'data-testid="confirm-amount">12.500<' in page.content.decode()  # and shown in Western digits
    assert "سالم الحارثي" in text_of(page)
    response = confirm(counter, wallet, "1.2345")
    assert "أدخل مبلغًا" in text_of(response)
    response = confirm(counter, wallet, "12.500")
    page = counter.get(response["Location"])
    assert "تم الشحن" in text_of(page) and 'data-testid="topup-amount">12.500<' in page.content.decode()
    # a negative difference keeps its minus in front of the number, right to left: the amount is isolated
    session = CashierSession.objects.get(cashier=cashier)
    response = counter.post(f"/counter/session/{session.pk}/close/", {"counted_cash": "32.000", "note": ""})
    assert "\u2066-0.500\u2069" in response.content.decode()
    assert "العدّ يختلف عن المتوقع 32.500 ر.ع. بمقدار -0.500 ر.ع." in text_of(response)


def test_the_language_switch_returns_to_the_same_page(counter):
    response = counter.post("/counter/language/", {"language": "ar", "next": SESSION})
    assert response.status_code == 302 and response["Location"] == SESSION
    assert '<html lang="ar" dir="rtl">' in counter.get(SESSION).content.decode()


def test_an_external_agent_sees_its_float_and_how_to_replenish_it(counter, office):
    page = counter.get("/counter/")
    html = page.content.decode()
    assert 'data-testid="float-balance">100.000<' in html and 'data-testid="float-available">100.000<' in html
    assert f'data-testid="float-reference">{office.cash_account.code}<' in html
    arabic = text_of(counter.get("/counter/", HTTP_ACCEPT_LANGUAGE="ar"))
    assert "رصيدك المسبق الدفع" in arabic and office.cash_account.code in arabic


def test_an_internal_office_has_no_float_card(client):
    internal = make_cashier(make_office("internal"))
    open_for(internal)
    html = at_counter(client, internal).get("/counter/").content.decode()
    assert 'data-testid="float"' not in html
