"""Online top-up and receipts in the portal, in a real headless browser over the real partner simulators.

The browser leaves for the simulator's page, the simulator sends its signed callback over HTTP to the live
server and sends the browser back: nothing in between is mocked. Transactional (live server): PostgreSQL only.
"""

from __future__ import annotations

import pytest

from ledger.selectors import balance
from tests.factories import D
from tests.web.conftest import CHROMIUM, make_customer
from tests.web.test_portal_browser import PHONE, log_in, shoot, use_language
from topups.models import OnlineTopup, TopupStatus

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


def start_topup(page: Page, *, amount: str, channel_label: str) -> None:
    page.get_by_role("button", name="Top up online").click()
    expect(page.get_by_role("heading", name="Top up online")).to_be_visible()
    page.get_by_label("Amount (OMR)").fill(amount)
    page.get_by_label(channel_label).check()
    page.get_by_role("button", name="Continue to payment").click()


def test_top_up_by_card_at_the_gateway_and_download_the_receipt(page: Page, live_server) -> None:
    customer = make_customer("5.000")
    log_in(page, live_server.url, customer)
    start_topup(page, amount="25.000", channel_label="Debit or credit card (national card gateway)")

    expect(page.get_by_role("heading", level=1)).to_contain_text("Card payment gateway")  # the simulator
    expect(page.locator("body")).to_contain_text("25.000 OMR")
    page.get_by_role("button", name="Authorise").click()

    expect(page.get_by_role("heading", name="Top-up done")).to_be_visible()
    topup = OnlineTopup.objects.get(wallet=customer.wallet)
    assert topup.status == TopupStatus.COMPLETED
    expect(page.get_by_test_id("balance-after")).to_have_text("30.000")
    expect(page.get_by_test_id("receipt-number")).to_have_text(topup.receipt_number)
    assert balance(customer.wallet.account) == D("30.000")
    shoot(page, "topup-done-en")

    with page.expect_download() as download:
        page.get_by_test_id("receipt-pdf").click()
    assert download.value.suggested_filename == f"receipt-{topup.receipt_number}.pdf"

    page.get_by_role("link", name="Back to my account").click()
    expect(page.get_by_test_id("balance")).to_have_text("30.000")
    newest = page.locator("table.history tbody tr").first
    expect(newest).to_contain_text("Online top-up")
    expect(newest.get_by_test_id("receipt-link")).to_have_attribute(
        "href", f"/portal/receipts/{topup.receipt_number}/pdf/"
    )


def test_a_declined_bank_payment_comes_back_as_not_done(page: Page, live_server) -> None:
    customer = make_customer("5.000")
    log_in(page, live_server.url, customer)
    start_topup(page, amount="10.000", channel_label="Bank transfer (partner bank's online banking)")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", name="Top-up not done")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was added")
    assert OnlineTopup.objects.get(wallet=customer.wallet).status == TopupStatus.FAILED
    assert balance(customer.wallet.account) == D("5.000")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_top_up_and_receipt_pages_have_no_serious_accessibility_violations(
    page: Page, live_server, language: str
) -> None:
    base = live_server.url
    customer = make_customer("20.000")
    use_language(page, base, language)
    waiting = []

    def open_waiting() -> None:
        page.goto(f"{base}/portal/topup/")
        page.locator("#id_amount").fill("3.000")
        page.locator("main form button[type=submit]").click()  # to the simulator: do not pay, come back
        waiting.append(OnlineTopup.objects.get(wallet=customer.wallet))
        page.goto(f"{base}/portal/topup/{waiting[0].pk}/")
        expect(page.get_by_test_id("check-again")).to_be_visible()

    def open_done() -> None:
        page.goto(f"{base}/portal/topup/")
        page.locator("#id_amount").fill("4.000")
        page.locator("main form button[type=submit]").click()
        page.locator("button[value=authorise]").click()
        expect(page.get_by_test_id("receipt-number")).to_be_visible()

    pages = {
        "topup-form": lambda: (log_in(page, base, customer), page.goto(f"{base}/portal/topup/")),
        "topup-form-errors": lambda: (
            page.locator("#id_amount").fill("1.2345"),
            page.locator("main form button[type=submit]").click(),
            expect(page.get_by_role("alert")).to_be_visible(),
        ),
        "topup-waiting": open_waiting,
        "topup-done": open_done,
        "dashboard-with-receipts": lambda: (
            page.goto(f"{base}/portal/"),
            expect(page.get_by_test_id("receipt-link").first).to_be_visible(),
        ),
        "receipt-mistyped": lambda: page.goto(f"{base}/portal/receipts/R123/pdf/"),
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
