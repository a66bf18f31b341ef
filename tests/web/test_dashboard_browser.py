"""The finance dashboard in a real headless browser (Debian's Chromium driven by Playwright), in both languages.

Against Django's live server, so these are transactional tests: PostgreSQL only (on SQLite the append-only
triggers stop the flush between tests). axe-core must find no violation at all, at a desk's width and a
phone's. Screenshots land in /tmp/erial-dashboard-screens for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from agents import services as agents
from erial.money import format_amount
from erial.roles import Role, grant
from ledger.businessday import today
from settlements.models import ExceptionKind, ReconException
from tests.agents.conftest import make_office, open_session
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, key
from tests.web.conftest import CHROMIUM, PASSWORD

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

DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = Path("/tmp/erial-dashboard-screens")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": DESK, "locale": "en-GB", "timezone_id": "Asia/Muscat"}


def shoot(page: Page, name: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def finance_login() -> str:
    """A finance officer with a back-office login (the dashboard sends visitors to the admin's login)."""
    username = f"fin-{uuid.uuid4().hex[:6]}"
    user = get_user_model().objects.create_user(username, password=PASSWORD, is_staff=True)
    grant(user, Role.FINANCE)
    return username


def some_books() -> None:
    """A cash top-up at an agent that leaves it near its credit limit, and two open exceptions."""
    agent = make_office("external", credit_limit="50.000", code="NEAR-1")
    make_office("external", float_="200.000", credit_limit="20.000", code="ROOMY-2")
    wallet = open_wallet(user=make_user(Role.CUSTOMER))
    session = open_session(agent)
    agents.record_cash_topup(
        session=session, wallet=wallet, amount=D("45.000"), actor=session.cashier.user, idempotency_key=key(), scope="t"
    )
    for age, kind in ((1, ExceptionKind.UNMATCHED_LINE), (9, ExceptionKind.AMOUNT_MISMATCH)):
        ReconException.objects.create(
            kind=kind, source="bank", business_day=today() - dt.timedelta(days=age), amount=D("3.000"), detail="t"
        )


def assert_no_violations(page: Page, name: str) -> None:
    results = Axe().run(page)
    assert results.response["violations"] == [], f"{name}:\n{results.generate_report()}"


def test_log_in_choose_a_period_read_it_in_arabic_with_no_accessibility_violation(page: Page, live_server) -> None:
    base = live_server.url
    some_books()
    username = finance_login()

    page.goto(f"{base}/finance/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page.get_by_role("heading", name="Finance dashboard", level=1)).to_be_visible()
    expect(page.get_by_test_id("topups-total")).to_have_text("45.000")
    expect(page.get_by_role("img", name="Top-ups per day by channel (OMR)")).to_be_visible()
    flagged = page.locator('tr[data-office="NEAR-1"]')
    expect(flagged).to_contain_text("Near the credit limit")
    expect(page.locator('tr[data-office="ROOMY-2"]')).not_to_contain_text("Near the credit limit")
    expect(page.get_by_test_id("exceptions-count")).to_have_text("2")
    assert_no_violations(page, "dashboard-en")
    shoot(page, "dashboard-en")

    # The back office's index links here too.
    page.get_by_role("link", name="Back office").click()
    shoot(page, "admin-index")
    page.get_by_role("link", name="Top-ups, payments, agents' floats and open exceptions").click()
    expect(page.get_by_role("heading", name="Finance dashboard", level=1)).to_be_visible()

    # A period that ends before it starts: the form says so, the charts stay.
    page.get_by_label("From", exact=True).fill((today() - dt.timedelta(days=2)).isoformat())
    page.get_by_label("To", exact=True).fill((today() - dt.timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    expect(page.get_by_text("The period ends before it starts.")).to_be_visible()
    expect(page.locator("svg.chart")).to_have_count(4)
    assert_no_violations(page, "dashboard-en-refused")
    shoot(page, "dashboard-en-refused")

    # Yesterday only: today's top-up is not in it.
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    page.get_by_label("From", exact=True).fill(yesterday)
    page.get_by_label("To", exact=True).fill(yesterday)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("topups-total")).to_have_text(format_amount(D("0")))

    page.get_by_role("button", name="العربية").click()
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", name="لوحة المالية", level=1)).to_be_visible()
    expect(page.get_by_label("من", exact=True)).to_have_value(yesterday)  # the switch came back to the same period
    expect(page.locator('tr[data-office="NEAR-1"]')).to_contain_text("قريب من الحد الائتماني")
    assert_no_violations(page, "dashboard-ar")
    shoot(page, "dashboard-ar")

    for width in (390, 360):
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"overflows at {width}px"
    assert_no_violations(page, "dashboard-ar-phone")
    shoot(page, "dashboard-ar-phone")


def test_a_customer_is_refused_politely(page: Page, live_server) -> None:
    user = get_user_model().objects.create_user(f"cust-{uuid.uuid4().hex[:6]}", password=PASSWORD, is_staff=True)
    grant(user, Role.CUSTOMER)
    page.goto(f"{live_server.url}/admin/login/?next=/finance/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page.get_by_text("This page is for finance staff.")).to_be_visible()
    assert page.locator("svg").count() == 0
    assert_no_violations(page, "forbidden")
