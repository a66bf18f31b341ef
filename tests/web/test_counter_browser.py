"""The cashier's counter in a real headless browser (Debian's Chromium driven by Playwright), in both languages.

Against Django's live server, so these are transactional tests: PostgreSQL only (on SQLite the append-only
triggers stop the flush between tests). The flow is driven from the keyboard, as a cashier works: the right
field has the focus on every page and Enter moves on. Screenshots at 1280 px (the counter's desk) and 390 px
(a phone or a small tablet) land in /tmp/erial-counter-screens for a person to look at.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from agents import services
from agents.models import CashierSession, CashTopup
from ledger import payments
from ledger.models import Service
from ledger.selectors import balance
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import open_wallet
from tests.factories import D, pay
from tests.web.conftest import CHROMIUM, PASSWORD, make_customer

pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}: apt-get install chromium (Debian) to run these"
    ),
]

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENS = Path("/tmp/erial-counter-screens")
#: What each language says at the milestones of the flow (the page's own words, not the test's).
WORDS = {
    "en": {
        "open": "Open your session",
        "confirm": "Confirm the top-up",
        "done": "Top-up done",
        "voided": "Top-up voided",
    },
    "ar": {"open": "افتح ورديتك", "confirm": "تأكيد الشحن", "done": "تم الشحن", "voided": "أُلغي الشحن"},
}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """The counter's desk; the language comes from the page's switch (or its cookie), not from the browser."""
    return {**browser_context_args, "viewport": DESK, "locale": "en-GB", "timezone_id": "Asia/Muscat"}


def make_counter_cashier(office=None):
    """A cashier of an external agent whose float holds 100.000, with a password to log in with."""
    cashier = make_cashier(office or make_office("external", float_="100.000"))
    cashier.user.set_password(PASSWORD)
    cashier.user.save()
    return cashier


def shoot(page: Page, name: str) -> None:
    """The page at the desk's width and at a phone's; at neither may it scroll sideways."""
    SCREENS.mkdir(exist_ok=True)
    for label, size in (("1280", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENS / f"{name}-{label}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} at {label}px"
    page.set_viewport_size(DESK)


def use_language(page: Page, base: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])


def log_in(page: Page, base: str, cashier) -> None:
    page.goto(f"{base}/counter/login/")
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type(cashier.user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


def open_session_by_keyboard(page: Page, opening: str = "20.000") -> None:
    expect(page.locator("#id_opening_cash")).to_be_focused()
    page.keyboard.type(opening)
    page.keyboard.press("Enter")
    expect(page.locator("#id_q")).to_be_focused()


def top_up_by_keyboard(page: Page, query: str, amount: str) -> None:
    """Search, pick the first account, type the amount: stops on the confirmation, its button focused."""
    expect(page.locator("#id_q")).to_be_focused()  # the page is ready: no keystroke is typed into nothing
    page.keyboard.type(query)
    page.keyboard.press("Enter")
    first = page.locator("ul.results a").first
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#id_amount")).to_be_focused()
    page.keyboard.type(amount)
    page.keyboard.press("Enter")
    expect(page.locator("form button[type=submit]").last).to_be_focused()


def to_the_confirmation(page: Page, base: str, wallet, amount: str) -> None:
    page.goto(f"{base}/counter/wallet/{wallet.number}/confirm/?amount={amount}")
    expect(page.get_by_test_id("confirm-amount")).to_have_text(amount)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_shift_at_the_counter_end_to_end(page: Page, live_server, language: str) -> None:
    base = live_server.url
    words = WORDS[language]
    cashier = make_counter_cashier()
    wallet = open_wallet(national_id=f"9{uuid.uuid4().int % 10**9:09d}")
    use_language(page, base, language)

    page.goto(f"{base}/counter/")  # not logged in: the login page, then back here
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    log_in(page, base, cashier)
    expect(page.get_by_role("heading", level=1)).to_have_text(words["open"])
    open_session_by_keyboard(page, "20.000")

    top_up_by_keyboard(page, wallet.holder.national_id, "12.5")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["confirm"])
    expect(page.get_by_test_id("confirm-amount")).to_have_text("12.500")
    expect(page.get_by_test_id("account-number")).to_have_text(f"{wallet.number[:4]} {wallet.number[4:]}")
    expect(page.get_by_test_id("holder-name")).to_have_text("سالم الحارثي" if language == "ar" else "Salim Al-Harthy")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["done"])
    kept = CashTopup.objects.get()
    expect(page.get_by_test_id("receipt-number")).to_have_text(kept.receipt_number)
    expect(page.get_by_test_id("print-thermal")).to_be_focused()  # Enter prints
    assert balance(wallet.account) == D("12.500")
    for link in ("print-thermal", "print-a4"):
        pdf = page.request.get(base + page.get_by_test_id(link).get_attribute("href"))
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"

    # a second top-up by the wallet's number, then voided: the wrong amount was typed
    page.goto(f"{base}/counter/")
    top_up_by_keyboard(page, wallet.number, "3")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["done"])
    page.locator("#id_reason").fill("Wrong amount")
    page.locator("#id_reason").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["voided"])
    assert balance(wallet.account) == D("12.500")

    # the receipt of the first top-up, looked up by its number
    page.goto(f"{base}/counter/receipts/")
    page.locator("#id_number").fill(kept.receipt_number)
    page.locator("#id_number").press("Enter")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("12.500")

    # close: the count is 0.500 short, so a note is needed first
    page.goto(f"{base}/counter/session/")
    expect(page.get_by_test_id("expected-cash")).to_have_text("32.500")
    page.locator("#id_counted_cash").fill("32.000")
    page.locator("#id_counted_cash").press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#id_note")).to_have_attribute("aria-invalid", "true")
    page.locator("#id_counted_cash").fill("32.000")
    page.locator("#id_note").fill("Short 0.500, counted twice with Salma")
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_test_id("difference")).to_have_text("-0.500")
    expect(page.get_by_test_id("counted-cash")).to_have_text("32.000")
    session = CashierSession.objects.get(cashier=cashier)
    assert (session.status, session.expected_cash, session.difference) == ("closed", D("32.500"), D("-0.500"))
    shoot(page, f"flow-closed-{language}")


def test_the_language_switch_keeps_the_page(page: Page, live_server) -> None:
    base = live_server.url
    cashier = make_counter_cashier()
    services.open_session(cashier=cashier, opening_cash=Decimal("0"))
    log_in(page, base, cashier)
    page.goto(f"{base}/counter/session/")
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", level=1)).to_have_text("ورديتك")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session")


def test_a_double_clicked_confirm_tops_up_once(page: Page, live_server) -> None:
    base = live_server.url
    cashier = make_counter_cashier()
    services.open_session(cashier=cashier, opening_cash=Decimal("0"))
    wallet = open_wallet()
    log_in(page, base, cashier)
    to_the_confirmation(page, base, wallet, "5.000")
    page.locator("form button[type=submit]").last.dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Top-up done")
    assert CashTopup.objects.filter(wallet=wallet).count() == 1
    assert balance(wallet.account) == D("5.000")


def test_confirm_sent_again_while_the_first_is_in_flight_tops_up_once(page: Page, live_server, monkeypatch) -> None:
    """On a slow line the second press reaches the server too: both carry the form's key, one tops up.

    (Chromium folds a fast double click into one submission; a second press while the first request is
    still in flight is sent, so the server sees both.)
    """
    seen: list[str] = []
    record_cash_topup = services.record_cash_topup

    def slow_record_cash_topup(**kwargs):
        seen.append(kwargs["idempotency_key"])
        time.sleep(0.6)  # the first request is still in flight when the second press comes
        return record_cash_topup(**kwargs)

    monkeypatch.setattr(services, "record_cash_topup", slow_record_cash_topup)
    base = live_server.url
    cashier = make_counter_cashier()
    services.open_session(cashier=cashier, opening_cash=Decimal("0"))
    wallet = open_wallet()
    log_in(page, base, cashier)
    to_the_confirmation(page, base, wallet, "3.000")
    page.locator("form button[type=submit]").last.evaluate("b => { b.click(); setTimeout(() => b.click(), 200); }")
    expect(page.get_by_role("heading", level=1)).to_have_text("Top-up done")
    assert len(seen) == 2 and len(set(seen)) == 1, seen
    assert CashTopup.objects.filter(wallet=wallet).count() == 1
    assert balance(wallet.account) == D("3.000")
    expect(page.get_by_test_id("receipt-number")).to_have_text(CashTopup.objects.get(wallet=wallet).receipt_number)


def test_the_skip_link_comes_first_and_focus_is_visible(page: Page, live_server) -> None:
    base = live_server.url
    cashier = make_counter_cashier()
    services.open_session(cashier=cashier, opening_cash=Decimal("0"))
    log_in(page, base, cashier)
    page.goto(f"{base}/counter/receipts/")  # no field takes the focus on this page until a search
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to main content")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_counter_page_has_no_serious_accessibility_violations(page: Page, live_server, language: str) -> None:
    base = live_server.url
    office = make_office("external", float_="100.000")
    cashier = make_counter_cashier(office)
    wallet = open_wallet("0.000")
    spent = open_wallet()
    billed = payments.pay_fee(
        wallet=open_wallet("20.000"),
        service=Service.objects.get(code="parking_fine"),
        bill_reference="PF-A11Y",
        amount=D("3.000"),
        actor=None,
        idempotency_key=uuid.uuid4().hex,
        scope="test",
    )
    use_language(page, base, language)
    state: dict[str, object] = {}

    def submit() -> None:
        page.locator("main form button[type=submit]").last.click()

    def top_up_spent() -> None:
        to_the_confirmation(page, base, spent, "4.000")
        submit()
        expect(page.get_by_test_id("receipt-number")).to_be_visible()
        pay(spent.account, "2.000")  # part of it is spent: the void will be refused
        state["spent"] = page.url

    pages = {
        "login": lambda: page.goto(f"{base}/counter/login/"),
        "login-errors": lambda: (
            page.locator("#id_username").fill("nobody"),
            page.locator("#id_password").fill("wrong"),
            submit(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "open-session": lambda: log_in(page, base, cashier),
        "open-session-errors": lambda: (
            page.locator("#id_opening_cash").fill("-1"),
            submit(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "search": lambda: (page.locator("#id_opening_cash").fill("20.000"), submit()),
        "search-results": lambda: (page.locator("#id_q").fill(wallet.number), page.locator("#id_q").press("Enter")),
        "search-errors": lambda: (
            page.locator("#id_q").fill(wallet.number[:-1] + str((int(wallet.number[-1]) + 1) % 10)),
            page.locator("#id_q").press("Enter"),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "amount": lambda: page.goto(f"{base}/counter/wallet/{wallet.number}/"),
        "amount-errors": lambda: (
            page.locator("#id_amount").fill("1.2345"),
            page.locator("#id_amount").press("Enter"),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "confirm": lambda: to_the_confirmation(page, base, wallet, "12.500"),
        "done": lambda: (submit(), expect(page.get_by_test_id("receipt-number")).to_be_visible()),
        "void-errors": lambda: (
            top_up_spent(),
            page.locator("#id_reason").fill("Wrong account"),
            submit(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "receipts": lambda: page.goto(f"{base}/counter/receipts/"),
        "receipt": lambda: page.goto(
            f"{base}/counter/receipts/?number={CashTopup.objects.get(wallet=wallet).receipt_number}"
        ),
        "receipt-errors": lambda: page.goto(f"{base}/counter/receipts/?number=R00000000001"),
        "bill-payments": lambda: (
            page.goto(f"{base}/counter/receipts/?bill={billed.bill_reference}&service=parking_fine&amount=3.000"),
            expect(page.get_by_test_id("bill-payments")).to_be_visible(),
        ),
        "bill-none": lambda: page.goto(f"{base}/counter/receipts/?bill=NO-SUCH-BILL&service=parking_fine&amount=1.000"),
        "bill-errors": lambda: page.goto(f"{base}/counter/receipts/?bill=PF-A11Y&amount=0"),
        "session": lambda: page.goto(f"{base}/counter/session/"),
        "session-errors": lambda: (
            page.locator("#id_counted_cash").fill("1.000"),
            submit(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "session-closed": lambda: (
            page.locator("#id_counted_cash").fill("1.000"),
            page.locator("#id_note").fill("Counted with the supervisor"),
            submit(),
            expect(page.get_by_test_id("difference")).to_be_visible(),
        ),
        "not-a-cashier": lambda: (
            page.context.clear_cookies(),
            use_language(page, base, language),
            _log_in_as_customer(page, base),
        ),
    }
    axe = Axe()
    for name, open_page in pages.items():
        open_page()
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{name} ({language}):\n{results.generate_report()}"
        shoot(page, f"{name}-{language}")
    # 4.000 in, then 2.000 and its 0.100 fee paid out: the refused void left it there
    assert balance(wallet.account) == D("12.500") and balance(spent.account) == D("1.900")


def _log_in_as_customer(page: Page, base: str) -> None:
    """A customer's login is refused at the counter's door; logged in through the portal, the counter says no."""
    customer = make_customer()
    page.goto(f"{base}/portal/login/")
    page.locator("#id_username").fill(customer.national_id)
    page.locator("#id_password").fill(customer.password)
    page.locator("main form button[type=submit]").click()
    page.goto(f"{base}/counter/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
