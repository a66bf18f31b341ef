"""The finance dashboard (/finance/) through Django's test client: who may see it, figures equal to the ledger,
period refusals, Arabic, and one query per chart.

The books are made the way the business makes them (cash top-ups at counters, online top-ups credited by the
partner callback's credit step, fee payments and refunds through ``ledger.payments``), some of them on earlier
days by moving the clock (``timezone.now``) while they are made: entries are append-only, so the past
cannot be edited into place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents import services as agents
from agents.models import Office
from erial.money import format_amount
from erial.roles import Role
from ledger import payments as ledger_payments
from ledger.businessday import today
from ledger.chart import SystemAccount
from ledger.models import AccountBalance, EntryKind, OwnerKind, Posting, Service
from ledger.selectors import balance
from reports.dashboard import (
    AGE_BUCKETS,
    BANK,
    CARD,
    CASH,
    Period,
    dashboard,
    default_period,
    float_positions,
    open_exceptions_by_age,
    payments_by_service,
    topups_by_channel,
)
from settlements.models import ExceptionKind, ExceptionStatus, ReconException
from tests.agents.conftest import make_office, open_session
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, key
from topups import services as topups
from topups.models import OnlineTopup

pytestmark = pytest.mark.django_db

URL = "/finance/"
ZERO = D("0.000")


# --- the books --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def days_ago(monkeypatch, days: int):
    """Everything made inside happens ``days`` days earlier (the clock moves on as it runs)."""
    real_now = timezone.now
    shift = dt.timedelta(days=days)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: real_now() - shift)
        yield


def cash(session, wallet, amount: str):
    return agents.record_cash_topup(
        session=session,
        wallet=wallet,
        amount=D(amount),
        actor=session.cashier.user,
        idempotency_key=key(),
        scope="test",
    )


def online(wallet, channel: str, amount: str) -> OnlineTopup:
    """An online top-up the partner authorised, credited by the callback handler's credit step."""
    topup = topups.initiate(wallet=wallet, amount=D(amount), channel=channel, actor=wallet.holder.user)
    with_lock = OnlineTopup.objects.select_related("wallet__account").get(pk=topup.pk)
    topups._credit(with_lock, f"PTX-{uuid.uuid4().hex[:8]}")
    return with_lock


def pay(wallet, service: str, amount: str):
    return ledger_payments.pay_fee(
        wallet=wallet,
        service=Service.objects.get(code=service),
        bill_reference=f"B-{uuid.uuid4().hex[:8]}",
        amount=D(amount),
        actor=wallet.holder.user,
        idempotency_key=key(),
        scope="test",
    )


def customer_wallet():
    return open_wallet(user=make_user(Role.CUSTOMER))


@dataclass
class Books:
    old_day: dt.date
    recent_day: dt.date


def make_books(monkeypatch) -> Books:
    """Top-ups on three channels, payments and a refund: today, 3 days ago and 40 days ago (outside 30 days)."""
    office = make_office("internal")
    agent = make_office("external", float_="100.000", credit_limit="50.000")
    w1, w2, w3 = customer_wallet(), customer_wallet(), customer_wallet()
    finance = make_user(Role.FINANCE)

    with days_ago(monkeypatch, 40):
        old_day = today()
        cash(open_session(office), w3, "9.000")
        pay(w3, "parking_permit", "3.000")
    with days_ago(monkeypatch, 3):
        recent_day = today()
        cash(open_session(office), w3, "4.000")
        online(w3, "card", "6.000")
        pay(w3, "building_permit", "1.000")

    counter = open_session(office)
    cash(counter, w1, "10.000")
    cash(counter, w2, "5.000")
    undone = cash(counter, w1, "2.000")
    agents.void_cash_topup(topup=undone, actor=counter.cashier.user, reason="Wrong wallet", idempotency_key=key())
    cash(open_session(agent), w2, "20.000")
    online(w1, "bank", "7.000")
    online(w2, "card", "3.500")
    lease = pay(w1, "lease_renewal", "2.000")
    pay(w1, "lease_renewal", "1.500")
    pay(w2, "parking_fine", "5.000")
    ledger_payments.refund_payment(
        payment=lease, amount=D("1.000"), reason="Overcharged", actor=finance, idempotency_key=key(), scope="test"
    )
    return Books(old_day=old_day, recent_day=recent_day)


# --- the ledger's own answer, from postings ---------------------------------------------------------------


def ledger_topups(period: Period) -> dict[tuple[dt.date, str], Decimal]:
    """Money into wallets per business day and channel, read from postings: top-up entries, less the
    reversals of cash top-ups; the channel from the entry's other leg (office cash, bank or gateway clearing)."""
    totals: dict[tuple[dt.date, str], Decimal] = defaultdict(lambda: ZERO)
    wallet_legs = Posting.objects.filter(
        account__owner_kind=OwnerKind.WALLET,
        entry__business_day__range=(period.start, period.end),
        entry__kind__in=[EntryKind.CASH_TOPUP, EntryKind.ONLINE_TOPUP, EntryKind.REVERSAL],
    ).select_related("entry__reverses")
    for leg in wallet_legs:
        entry = leg.entry
        source = entry.reverses if entry.kind == EntryKind.REVERSAL else entry
        codes = set(source.postings.values_list("account__code", flat=True))
        if source.kind == EntryKind.CASH_TOPUP:
            channel = CASH
        elif SystemAccount.BANK_CLEARING.value in codes:
            channel = BANK
        else:
            assert SystemAccount.GATEWAY_CLEARING.value in codes
            channel = CARD
        totals[(entry.business_day, channel)] -= leg.amount.amount
    return {k: v for k, v in totals.items() if v}


def ledger_revenue(period: Period, service: str, kind: EntryKind) -> tuple[int, Decimal]:
    legs = Posting.objects.filter(
        account__code=f"revenue.{service}", entry__kind=kind, entry__business_day__range=(period.start, period.end)
    )
    return legs.count(), legs.aggregate(total=Sum("amount"))["total"] or ZERO


def last_days(days: int) -> Period:
    return Period(today() - dt.timedelta(days=days - 1), today())


# --- figures equal the ledger -----------------------------------------------------------------------------


def test_top_ups_per_day_and_channel_equal_the_wallet_postings(monkeypatch):
    books = make_books(monkeypatch)
    for period in (default_period(today()), last_days(60), Period(books.recent_day, books.recent_day)):
        shown = {
            (day.day, channel): amount for day in topups_by_channel(period) for channel, amount in day.amounts.items()
        }
        assert {k: v for k, v in shown.items() if v} == ledger_topups(period)
        assert len({day for day, _channel in shown}) == (period.end - period.start).days + 1  # every day, zeros too

    month = {day.day: day for day in topups_by_channel(default_period(today()))}
    now = month[today()]
    # The voided 2.000 was taken back: it is not money in; the agent's 20.000 is cash too.
    assert now.amounts == {CASH: D("35.000"), BANK: D("7.000"), CARD: D("3.500")}
    assert now.counts == {CASH: 3, BANK: 1, CARD: 1}
    assert month[books.recent_day].amounts == {CASH: D("4.000"), BANK: ZERO, CARD: D("6.000")}
    assert books.old_day not in month


def test_payments_by_service_equal_the_revenue_postings(monkeypatch):
    make_books(monkeypatch)
    for period in (default_period(today()), last_days(60), last_days(1)):
        shown = {row.code: row for row in payments_by_service(period)}
        assert set(shown) == set(Service.objects.values_list("code", flat=True))
        for code, row in shown.items():
            count, paid = ledger_revenue(period, code, EntryKind.FEE_PAYMENT)
            _refunds, refunded = ledger_revenue(period, code, EntryKind.REFUND)
            assert (row.count, row.amount, row.refunded) == (count, -paid, refunded)
            assert row.net == -(paid + refunded)
        fee_income = Posting.objects.filter(
            account__code=SystemAccount.FEE_INCOME,
            entry__kind=EntryKind.FEE_PAYMENT,
            entry__business_day__range=(period.start, period.end),
        ).aggregate(total=Sum("amount"))["total"]
        assert sum((row.fees for row in shown.values()), ZERO) == -(fee_income or ZERO)

    month = {row.code: row for row in payments_by_service(default_period(today()))}
    assert (month["lease_renewal"].count, month["lease_renewal"].amount) == (2, D("3.500"))
    assert month["lease_renewal"].refunded == D("1.000") and month["lease_renewal"].net == D("2.500")
    assert (month["building_permit"].count, month["parking_permit"].count) == (1, 0)  # 40 days ago: outside


def test_float_positions_equal_the_float_accounts_and_flag_agents_near_their_limit():
    customer = customer_wallet()
    roomy = make_office("external", float_="100.000", credit_limit="50.000", code="A-ROOMY")
    near = make_office("external", credit_limit="50.000", code="B-NEAR")
    used = make_office("external", credit_limit="50.000", code="C-USED")
    make_office("external", code="D-NOCREDIT")
    make_office("external", credit_limit="10.000", active=False, code="E-NEW")
    gone = make_office("external", active=False, code="F-GONE")
    agents.terminate_office(office=gone, actor=None, reason="Contract ended")
    make_office("internal", code="G-INTERNAL")
    cash(open_session(roomy), customer, "20.000")
    cash(open_session(near), customer, "40.000")  # 80 % of 50.000: at the line
    cash(open_session(used), customer, "39.999")  # just under it

    positions = {p.code: p for p in float_positions()}
    assert list(positions) == ["A-ROOMY", "B-NEAR", "C-USED", "D-NOCREDIT", "E-NEW"]  # no internal, no terminated
    for code, position in positions.items():
        office = Office.objects.select_related("cash_account").get(code=code)
        assert position.balance == balance(office.cash_account)
        assert position.credit_limit == -AccountBalance.objects.get(account=office.cash_account).floor
        assert position.headroom == position.balance + position.credit_limit
    assert {code for code, p in positions.items() if p.near_limit} == {"B-NEAR", "D-NOCREDIT"}
    assert positions["B-NEAR"].balance == D("-40.000") and positions["A-ROOMY"].headroom == D("130.000")
    assert positions["E-NEW"].status == "onboarding"


def exception(kind: str, age_days: int, amount: str, status: str = ExceptionStatus.OPEN) -> ReconException:
    return ReconException.objects.create(
        kind=kind,
        source="bank",
        business_day=today() - dt.timedelta(days=age_days),
        amount=D(amount),
        detail="test",
        status=status,
    )


def test_open_exceptions_are_counted_by_age_and_kind():
    ages = {0: "0-1", 1: "0-1", 2: "2-3", 3: "2-3", 4: "4-7", 7: "4-7", 8: "8+", 30: "8+"}
    for age in ages:
        exception(ExceptionKind.UNMATCHED_LINE, age, "1.000")
    exception(ExceptionKind.AMOUNT_MISMATCH, 5, "-2.500", status=ExceptionStatus.PROPOSED)  # awaits its checker
    exception(ExceptionKind.AMOUNT_MISMATCH, 6, "2.000")
    exception(ExceptionKind.BATCH_MISMATCH, 2, "9.000", status=ExceptionStatus.RESOLVED)  # done: not shown

    aging = open_exceptions_by_age(today())
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for row in ReconException.objects.exclude(status=ExceptionStatus.RESOLVED):
        age = (today() - row.business_day).days
        bucket = next(key for key, low, high in AGE_BUCKETS if age >= low and (high is None or age <= high))
        expected[(row.kind, bucket)] += 1
    assert {k: c.count for k, c in aging.cells.items()} == dict(expected)
    assert [aging.bucket_count(key) for key, _low, _high in AGE_BUCKETS] == [2, 2, 4, 2]
    assert aging.cell(ExceptionKind.AMOUNT_MISMATCH, "4-7").amount == D("4.500")  # at stake: signs do not cancel
    assert aging.count == 10 and aging.amount == D("12.500")


# --- the page ---------------------------------------------------------------------------------------------


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def finance_client(client, role: Role = Role.FINANCE):
    client.force_login(make_user(role))
    return client


def by_testid(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', response.content.decode())
    assert match, testid
    return match.group(1).strip()


def test_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={URL}"


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT, Role.SERVICE, None])
def test_other_roles_are_refused(client, role):
    user = make_user(role)
    user.is_staff = True  # a back-office login without the finance role is still refused
    user.save()
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 403
    assert "This page is for finance staff" in text_of(response)
    assert "<svg" not in response.content.decode()


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_finance_and_admins_see_four_charts_each_with_a_table(client, role):
    make_office("external", float_="10.000", credit_limit="5.000")
    response = finance_client(client, role).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 4
    assert html.count('<table class="data">') == 4
    for chart in ("topups", "payments", "floats", "exceptions"):
        assert f'aria-labelledby="chart-{chart}-title chart-{chart}-desc"' in html
    assert "cdn" not in html.lower() and "<script" not in html


def test_a_superuser_is_an_admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root-dash", password="x"))
    assert client.get(URL).status_code == 200


def test_the_page_shows_the_ledger_totals_of_the_period(client, monkeypatch):
    make_books(monkeypatch)
    period = default_period(today())
    response = finance_client(client).get(URL)
    assert response.status_code == 200
    assert by_testid(response, "topups-total") == format_amount(sum(ledger_topups(period).values(), ZERO))
    paid = Posting.objects.filter(
        account__code__startswith="revenue.",
        entry__kind=EntryKind.FEE_PAYMENT,
        entry__business_day__range=(period.start, period.end),
    )
    assert by_testid(response, "payments-count") == str(paid.count())
    assert by_testid(response, "payments-amount") == format_amount(-paid.aggregate(total=Sum("amount"))["total"])
    text = text_of(response)
    assert f"{period.start:%-d %b %Y} to {period.end:%-d %b %Y}" in text


def test_a_chosen_period_reaches_back(client, monkeypatch):
    books = make_books(monkeypatch)
    start, end = books.old_day, books.recent_day
    response = finance_client(client).get(URL, {"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200
    assert by_testid(response, "topups-total") == format_amount(sum(ledger_topups(Period(start, end)).values(), ZERO))
    assert by_testid(response, "topups-total") == "19.000"  # 9 cash 40 days ago, 4 cash + 6 card 3 days ago
    assert by_testid(response, "payments-count") == "2"
    html = response.content.decode()
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html


def future(days: int = 1) -> str:
    return (today() + dt.timedelta(days=days)).isoformat()


def past(days: int) -> str:
    return (today() - dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": past(3), "end": past(5)}, "The period ends before it starts."),
        ({"start": past(3), "end": future()}, "The period cannot end after today."),
        ({"start": future(2), "end": future(3)}, "The period cannot end after today."),
        ({"start": past(400), "end": past(0)}, "The dashboard shows at most 366 days."),
        ({"start": "2026-13-01", "end": past(0)}, "Enter a valid date."),
        ({"start": "yesterday", "end": past(0)}, "Enter a valid date."),
        ({"start": past(3)}, "This field is required."),
        ({"start": "", "end": ""}, "This field is required."),
    ],
)
def test_a_refused_period_is_a_form_error_and_the_page_still_renders(client, monkeypatch, params, message):
    make_books(monkeypatch)
    response = finance_client(client).get(URL, params)
    assert response.status_code == 400
    text = text_of(response)
    assert message in text and "Please correct the marked fields." in text
    assert 'aria-invalid="true"' in response.content.decode()
    # The figures shown are the default period's, and the page says so.
    period = default_period(today())
    assert by_testid(response, "topups-total") == format_amount(sum(ledger_topups(period).values(), ZERO))
    assert f"{period.start:%-d %b %Y} to {period.end:%-d %b %Y}" in text
    assert response.content.decode().count("<svg") == 4


def test_the_page_in_arabic_is_right_to_left_with_arabic_labels(client, monkeypatch):
    make_books(monkeypatch)
    client = finance_client(client)
    client.cookies["django_language"] = "ar"
    response = client.get(URL)
    html = response.content.decode()
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    text = text_of(response)
    assert "لوحة المالية" in text and "Finance dashboard" not in text
    assert "تجديد عقد الإيجار" in text and "Lease-contract renewal" not in text  # service names in Arabic
    assert re.search(r'<title id="chart-topups-title">[^<]*[\u0600-\u06ff]', html)  # the chart speaks Arabic too
    total = format_amount(sum(ledger_topups(default_period(today())).values(), ZERO))
    assert by_testid(response, "topups-total") == total  # western digits, as on the portal
    refused = client.get(URL, {"start": past(1), "end": past(2)})
    assert refused.status_code == 400 and "تنتهي الفترة قبل أن تبدأ." in text_of(refused)


def test_home_and_back_office_link_the_dashboard_for_finance_only(client):
    staff = make_user(Role.FINANCE)
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    assert 'href="/finance/"' in client.get("/").content.decode()
    assert 'href="/finance/"' in client.get("/admin/").content.decode()
    other = make_user(Role.AGENT)
    other.is_staff = True
    other.save()
    client.force_login(other)
    assert 'href="/finance/"' not in client.get("/").content.decode()
    assert 'href="/finance/"' not in client.get("/admin/").content.decode()


# --- queries ----------------------------------------------------------------------------------------------


def test_each_chart_is_one_query(monkeypatch, django_assert_num_queries):
    make_books(monkeypatch)
    make_office("external", credit_limit="5.000")
    exception(ExceptionKind.UNMATCHED_LINE, 3, "1.000")
    with django_assert_num_queries(4):
        data = dashboard(last_days(60), today=today())
    assert data.floats and data.exceptions.count and any(day.total for day in data.topups)


def page_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    return len(captured)


def test_the_page_costs_the_same_queries_for_few_and_many_rows(client, monkeypatch):
    client = finance_client(client)
    make_office("external", credit_limit="5.000")
    page_queries(client)  # warm: the first request fills per-process caches
    few = page_queries(client)
    make_books(monkeypatch)
    for n in range(5):
        make_office("external", credit_limit="5.000")
        exception(ExceptionKind.UNMATCHED_LINE, n * 3, "1.000")
    assert page_queries(client) == few
