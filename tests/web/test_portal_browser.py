"""The customer portal in a real headless browser (Debian's Chromium driven by Playwright) at phone width.

Against Django's live server, so these are transactional tests: PostgreSQL only (on SQLite the append-only
triggers stop the flush between tests). Screenshots land in /tmp/erial-portal-screens for a person to look at.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest

from ledger import payments
from ledger.models import Payment, Wallet
from ledger.selectors import balance
from tests.factories import D, top_up
from tests.web.conftest import CHROMIUM, PASSWORD, Customer, make_customer, new_national_id
from tests.web.test_portal_activation import opened_at_office

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

PHONE = {"width": 390, "height": 844}
SCREENS = Path("/tmp/erial-portal-screens")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A phone-sized window; the language comes from the page's switch, not from the browser."""
    return {**browser_context_args, "viewport": PHONE, "locale": "en-GB", "timezone_id": "Asia/Muscat"}


def shoot(page: Page, name: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def use_language(page: Page, base: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])


def log_in(page: Page, base: str, customer: Customer) -> None:
    page.goto(f"{base}/portal/login/")
    page.locator("#id_username").fill(customer.national_id)
    page.locator("#id_password").fill(customer.password)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("balance")).to_be_visible()


def fill_pay_form(page: Page, *, service: str, bill: str, amount: str) -> None:
    page.locator("#id_service").select_option(service)
    page.locator("#id_bill_reference").fill(bill)
    page.locator("#id_amount").fill(amount)


def test_register_log_in_top_up_pay_and_read_it_in_arabic(page: Page, live_server) -> None:
    base = live_server.url
    national_id = new_national_id()
    page.goto(f"{base}/portal/register/")
    expect(page.get_by_label("Individual (civil ID)")).to_be_checked()
    page.get_by_label("Civil ID or CR number").fill(national_id)
    page.get_by_label("Name in English").fill("Aisha Al-Balushi")
    page.get_by_label("Name in Arabic").fill("عائشة البلوشية")
    page.get_by_label("Mobile phone").fill("9123 4567")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Open my account").click()
    expect(page.get_by_test_id("balance")).to_have_text("0.000")
    wallet = Wallet.objects.select_related("account").get(holder__national_id=national_id)
    expect(page.get_by_test_id("account-number")).to_have_text(f"{wallet.number[:4]} {wallet.number[4:]}")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Civil ID or CR number").fill(national_id)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("balance")).to_have_text("0.000")

    top_up(wallet.account, "20.000")  # at an office, outside the portal
    page.reload()
    expect(page.get_by_test_id("balance")).to_have_text("20.000")

    fill_pay_form(page, service="lease_renewal", bill="L-2026-114", amount="2.000")
    page.get_by_role("button", name="Pay", exact=True).click()
    receipt = page.get_by_role("status")
    expect(receipt).to_contain_text("Payment done")
    expect(page.get_by_test_id("receipt-total")).to_have_text("2.100")
    expect(page.get_by_test_id("balance")).to_have_text("17.900")
    newest = page.locator("table.history tbody tr").first
    expect(newest).to_contain_text("Lease-contract renewal, bill L-2026-114")
    expect(newest).to_contain_text("-2.100")
    expect(newest).to_contain_text("17.900")
    assert balance(wallet.account) == D("17.900")
    shoot(page, "dashboard-en-after-payment")

    page.get_by_role("button", name="العربية").click()
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", name="الرصيد")).to_be_visible()
    expect(page.get_by_test_id("balance")).to_have_text("17.900")
    expect(page.locator("table.history tbody tr").first).to_contain_text("تجديد عقد الإيجار")
    expect(page.get_by_role("button", name="English")).to_be_visible()
    shoot(page, "dashboard-ar")


def test_a_double_clicked_pay_button_pays_once(page: Page, live_server) -> None:
    customer = make_customer("20.000")
    log_in(page, live_server.url, customer)
    fill_pay_form(page, service="parking_fine", bill="F-555", amount="5.000")
    page.get_by_role("button", name="Pay", exact=True).dblclick()
    expect(page.get_by_test_id("receipt-total")).to_have_text("5.100")
    expect(page.get_by_test_id("balance")).to_have_text("14.900")
    assert Payment.objects.filter(wallet=customer.wallet).count() == 1
    assert balance(customer.wallet.account) == D("14.900")


def test_pay_tapped_again_while_the_first_is_in_flight_pays_once(page: Page, live_server, monkeypatch) -> None:
    """On a slow network the second tap reaches the server too: both carry the form's key, one pays.

    (Chromium folds a fast double click into one submission; a second tap while the first request is
    still in flight is sent, so the server sees both.)
    """
    seen: list[str] = []
    pay_fee = payments.pay_fee

    def slow_pay_fee(**kwargs):
        seen.append(kwargs["idempotency_key"])
        time.sleep(0.6)  # the first request is still in flight when the second tap comes
        return pay_fee(**kwargs)

    monkeypatch.setattr(payments, "pay_fee", slow_pay_fee)
    customer = make_customer("20.000")
    log_in(page, live_server.url, customer)
    fill_pay_form(page, service="parking_permit", bill="PP-9", amount="3.000")
    page.get_by_role("button", name="Pay", exact=True).evaluate("b => { b.click(); setTimeout(() => b.click(), 200); }")
    expect(page.get_by_test_id("receipt-total")).to_have_text("3.100")
    expect(page.get_by_test_id("balance")).to_have_text("16.900")
    assert len(seen) == 2 and len(set(seen)) == 1, seen
    assert Payment.objects.filter(wallet=customer.wallet).count() == 1
    assert balance(customer.wallet.account) == D("16.900")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_pages_have_no_serious_accessibility_violations_and_fit_a_phone(page: Page, live_server, language: str) -> None:
    base = live_server.url
    customer = make_customer("20.000")
    use_language(page, base, language)
    pages = {
        "login": lambda: page.goto(f"{base}/portal/login/"),
        "register": lambda: page.goto(f"{base}/portal/register/"),
        "register-errors": lambda: (
            page.goto(f"{base}/portal/register/"),
            page.locator("#id_phone").fill("12"),
            page.locator("main form button[type=submit]").click(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "activate": lambda: page.goto(f"{base}/portal/activate/"),
        "activate-errors": lambda: (
            page.locator("#id_account").fill(customer.wallet.number),
            page.locator("#id_code").fill("ABCD-EFGH-JK"),
            page.locator("main form button[type=submit]").click(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "dashboard": lambda: (log_in(page, base, customer), _pay_a_bill(page)),
        "dashboard-errors": lambda: (
            fill_pay_form(page, service="parking_fine", bill="F-1", amount="1.2345"),
            page.locator("form.pay-form button[type=submit]").click(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "statement": lambda: page.goto(f"{base}/portal/statement/"),
        "statement-errors": lambda: (
            page.goto(f"{base}/portal/statement/?from=2026-02-30&to=2026-03-01"),
            expect(page.get_by_role("alert")).to_be_visible(),
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
        for width in (390, 360):
            page.set_viewport_size({"width": width, "height": PHONE["height"]})
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} at {width}px"
        page.set_viewport_size(PHONE)


def test_the_skip_link_comes_first_for_keyboard_users(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/portal/register/")  # the login page focuses its first field instead
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")
    page.keyboard.press("Enter")
    assert re.search(r"#content$", page.url)


def _pay_a_bill(page: Page) -> None:
    fill_pay_form(page, service="lease_renewal", bill=f"L-{uuid.uuid4().hex[:6]}", amount="2.000")
    page.locator("form.pay-form button[type=submit]").click()
    expect(page.get_by_test_id("receipt-total")).to_have_text("2.100")


def test_a_holder_from_an_office_activates_online_access_and_sees_the_account(page: Page, live_server) -> None:
    holder = opened_at_office()
    page.goto(f"{live_server.url}/portal/login/")
    page.get_by_role("link", name="Activate online access").click()
    page.locator("#id_account").fill(holder.wallet.number)
    page.locator("#id_national_id").fill(holder.national_id)
    page.locator("#id_code").fill(holder.code.lower())
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("balance")).to_have_text("0.000")
    shoot(page, "activated-dashboard")


def test_the_statement_downloads_as_a_pdf_from_the_dashboard(page: Page, live_server) -> None:
    base = live_server.url
    customer = make_customer("20.000")
    log_in(page, base, customer)
    _pay_a_bill(page)
    with page.expect_download() as downloading:
        page.get_by_test_id("statement-form").get_by_role("button").click()
    download = downloading.value
    assert re.fullmatch(
        rf"statement-{customer.wallet.number}-\d{{4}}-\d{{2}}-\d{{2}}-\d{{4}}-\d{{2}}-\d{{2}}\.pdf",
        download.suggested_filename,
    ), download.suggested_filename
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
