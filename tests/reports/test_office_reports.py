"""Office reports: the day report and the office statement add up to the ledger, read right in both languages
as PDFs, carry page totals forward, and are refused clearly (writing nothing) to whoever may not have them."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from agents import services
from agents.models import CashTopup, Office
from erial.errors import InvalidRequest, LimitExceeded
from erial.money import from_db
from erial.roles import Role
from ledger.businessday import day_bounds, today
from ledger.models import Posting
from ledger.selectors import balance
from reports.agent_statement import agent_statement
from reports.agent_statement_pdf import first_header, render_agent_statement
from reports.office_day import office_day
from reports.office_day_pdf import render_office_day
from reports.statement_pdf import plan_pages
from tests.agents.conftest import make_cashier, make_office, set_commission, topup
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.reports.conftest import needs_poppler, pdf_text
from tests.reports.test_statements import amounts_on, pages_text

pytestmark = pytest.mark.django_db

MUSCAT = ZoneInfo("Asia/Muscat")
DAY = dt.date(2025, 3, 10)
ZERO = Decimal("0.000")
THREE_DECIMALS = re.compile(r"(?<![\d-])\d+\.\d+(?![\d.])")


def muscat(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MUSCAT)


@contextmanager
def at(moment: dt.datetime):
    """The clock (every ``timezone.now()``) stands at ``moment``: sessions, top-ups and entries happen then."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def session_at(office: Office, when: dt.datetime, opening: str = "20.000"):
    with at(when):
        return services.open_session(cashier=make_cashier(office), opening_cash=Decimal(opening))


def cash_at(session, wallet, amount: str, when: dt.datetime) -> CashTopup:
    with at(when):
        return topup(session, wallet, amount)


def void_at(topup_: CashTopup, when: dt.datetime) -> CashTopup:
    with at(when):
        return services.void_cash_topup(
            topup=topup_, actor=topup_.session.cashier.user, reason="Wrong account", idempotency_key=uuid.uuid4().hex
        )


def close_at(session, counted: str, when: dt.datetime, note: str = ""):
    with at(when):
        return services.close_session(
            session=session, counted_cash=Decimal(counted), actor=session.cashier.user, note=note
        )


def deposit_at(office: Office, amount: str, when: dt.datetime, reference: str = "DEP-1") -> None:
    with at(when):
        services.record_float_deposit(
            office=office,
            amount=Decimal(amount),
            actor=make_user(Role.FINANCE),
            idempotency_key=uuid.uuid4().hex,
            bank_reference=reference,
        )


def postings_sum(account_id: int, day: dt.date) -> Decimal:
    start, end = day_bounds(day)
    rows = Posting.objects.filter(account_id=account_id, created_at__gte=start, created_at__lt=end)
    return from_db(rows.aggregate(total=Sum("amount"))["total"]) or ZERO


def internal_day() -> tuple[Office, dict]:
    """A municipal office on DAY: two sessions, four top-ups, one void, a count 0.500 short; a top-up the day
    before and the day after (outside the report)."""
    with at(muscat(DAY - dt.timedelta(days=3), 8)):
        office = make_office("internal", code=f"MCT{uuid.uuid4().hex[:4].upper()}")
    Office.objects.filter(pk=office.pk).update(name_ar="مديرية مسقط")  # words only: read back in logical order
    office = Office.objects.select_related("cash_account").get(pk=office.pk)
    aisha, salim = open_wallet(), open_wallet()
    before = session_at(office, muscat(DAY - dt.timedelta(days=1), 9))
    cash_at(before, aisha, "1.000", muscat(DAY - dt.timedelta(days=1), 9, 5))
    close_at(before, "21.000", muscat(DAY - dt.timedelta(days=1), 17))
    first = session_at(office, muscat(DAY, 8), "20.000")
    kept = cash_at(first, aisha, "5.000", muscat(DAY, 9, 10))
    wrong = cash_at(first, salim, "7.000", muscat(DAY, 9, 20))
    void_at(wrong, muscat(DAY, 9, 25))
    late = cash_at(first, aisha, "3.250", muscat(DAY, 10))
    close_at(first, "27.750", muscat(DAY, 12), note="Short by 500 baisa")
    second = session_at(office, muscat(DAY, 13), "10.000")
    still_open = cash_at(second, salim, "2.000", muscat(DAY, 23, 55))  # 19:55 UTC: still DAY in Muscat
    after = session_at(office, muscat(DAY + dt.timedelta(days=1), 0, 5))
    next_day = cash_at(after, salim, "4.000", muscat(DAY + dt.timedelta(days=1), 0, 10))
    made = {"kept": kept, "wrong": wrong, "late": late, "open": still_open, "next_day": next_day}
    return office, {**made, "wallets": (aisha, salim)}


def external_days() -> tuple[Office, dict]:
    """An agent with 100.000 of float (1 % commission, at least 0.100) over DAY and the day after."""
    with at(muscat(DAY - dt.timedelta(days=5), 8)):
        office = make_office("external", code=f"AG{uuid.uuid4().hex[:4].upper()}", credit_limit="50.000")
        set_commission("percent", "1.000", minimum="0.100")
    Office.objects.filter(pk=office.pk).update(name_ar="مكتبة السيب")
    deposit_at(office, "100.000", muscat(DAY - dt.timedelta(days=5), 9), "DEP-OPEN")
    wallet = open_wallet()
    session = session_at(office, muscat(DAY, 8), "0.000")
    big = cash_at(session, wallet, "20.000", muscat(DAY, 9))
    small = cash_at(session, wallet, "5.000", muscat(DAY, 9, 30))
    void_at(small, muscat(DAY, 9, 40))
    deposit_at(office, "50.000", muscat(DAY, 11), "DEP-777")
    close_at(session, "20.000", muscat(DAY, 17))
    next_day = session_at(office, muscat(DAY + dt.timedelta(days=1), 8), "0.000")
    third = cash_at(next_day, wallet, "30.000", muscat(DAY + dt.timedelta(days=1), 9))
    return Office.objects.select_related("cash_account", "commission_account").get(pk=office.pk), {
        "big": big,
        "small": small,
        "third": third,
        "wallet": wallet,
    }


# --- the day report: totals equal the ledger ----------------------------------------------------------


def test_an_internal_offices_day_adds_up_to_the_postings_on_its_drawer():
    office, made = internal_day()
    data = office_day(office, DAY)
    assert data.totals == {
        "count": 4,
        "gross": Decimal("17.250"),
        "void_count": 1,
        "voids": Decimal("7.000"),
        "net": Decimal("10.250"),
        "commission": ZERO,
    }
    assert [t.receipt_number for t in data.topups] == [
        made[k].receipt_number for k in ("kept", "wrong", "late", "open")
    ]
    assert [t.receipt_number for t in data.voids] == [made["wrong"].receipt_number]
    drawer = office.cash_account
    ledger = data.ledger
    # The drawer (an asset) rises by the net top-ups and falls by the shortfall: nothing else moved it.
    assert ledger.topups == data.totals["net"] and ledger.over_short == Decimal("-0.500")
    assert postings_sum(drawer.pk, DAY) == data.totals["net"] + ledger.over_short
    start, end = day_bounds(DAY)
    assert ledger.opening == balance(drawer, as_of=start) == Decimal("1.000")
    assert ledger.closing == balance(drawer, as_of=end) == Decimal("10.750")
    assert ledger.other == ledger.deposits == ZERO
    first, second = data.sessions
    assert (first.status, first.expected_cash, first.counted_cash, first.difference) == (
        "closed",
        Decimal("28.250"),
        Decimal("27.750"),
        Decimal("-0.500"),
    )
    assert (first.topup_count, first.topup_amount, first.note) == (2, Decimal("8.250"), "Short by 500 baisa")
    assert (second.status, second.closed_at, second.topup_amount) == ("open", None, Decimal("2.000"))


def test_an_agents_day_adds_up_to_its_float_and_commission_payable():
    office, _ = external_days()
    data = office_day(office, DAY)
    assert data.totals["gross"] == Decimal("25.000") and data.totals["voids"] == Decimal("5.000")
    assert data.totals["net"] == Decimal("20.000") and data.totals["commission"] == Decimal("0.200")
    ledger = data.ledger
    # The float is owed to the agent: a top-up uses it up, a deposit refills it (postings are debit +).
    assert postings_sum(office.cash_account_id, DAY) == data.totals["net"] - Decimal("50.000")
    assert ledger.topups == -data.totals["net"] and ledger.deposits == Decimal("50.000")
    assert postings_sum(office.commission_account_id, DAY) == -data.totals["commission"] == -ledger.commission
    assert ledger.closing == balance(office.cash_account, as_of=day_bounds(DAY)[1]) == Decimal("130.000")
    assert [t.commission for t in data.topups] == [Decimal("0.200"), Decimal("0.100")]


def test_a_day_report_for_a_day_to_come_is_refused():
    office = make_office("internal")
    with pytest.raises(InvalidRequest):
        office_day(office, today() + dt.timedelta(days=1))
    assert office_day(office, today()).totals["count"] == 0


@needs_poppler
def test_the_day_report_pdf_reads_in_logical_order_with_three_decimals(tmp_path):
    office, made = internal_day()
    text = pdf_text(render_office_day(office_day(office, DAY)), tmp_path)
    for expected in [
        "Office day report",
        office.name_en,
        office.code,
        "2025-03-10",
        made["kept"].receipt_number,
        made["wrong"].receipt_number,
        made["wallets"][0].number,
        "09:10:00",
        "23:55:00",  # Muscat time
        "17.250 OMR",
        "10.250 OMR",
        "28.250",
        "27.750",
        "-0.500",
        "voided",
        "Short by 500 baisa",
        office.cash_account.code,
    ]:
        assert expected in text, f"{expected!r} missing from:\n{text}"
    for arabic in [
        "التقرير اليومي للمكتب",
        office.name_ar,
        "بلدية مسقط",
        "الإيداعات النقدية",
        "الإيداعات الملغاة",
        "صافي الإيداعات النقدية",
        "جلسات أمناء الصندوق",
        "أمين الصندوق",
        "الرصيد الافتتاحي",
        "الرصيد الختامي",
    ]:
        assert arabic in text, f"{arabic!r} (logical order) missing from:\n{text}"
    assert made["next_day"].receipt_number not in text and "4.000" not in text
    numbers = THREE_DECIMALS.findall(text)
    assert numbers and all(re.fullmatch(r"\d+\.\d{3}", n) for n in numbers), numbers


@needs_poppler
def test_an_agents_day_report_shows_commission(tmp_path):
    office, made = external_days()
    text = pdf_text(render_office_day(office_day(office, DAY)), tmp_path)
    for expected in ["Commission earned", "العمولة المكتسبة", "0.200", "Authorised agent", "50.000 OMR"]:
        assert expected in text, f"{expected!r} missing from:\n{text}"
    assert made["third"].receipt_number not in text


# --- the office statement ---------------------------------------------------------------------------


def test_an_agents_statement_lists_every_movement_and_adds_up():
    office, made = external_days()
    data = agent_statement(office, DAY, DAY + dt.timedelta(days=1))
    since, until = day_bounds(DAY)[0], day_bounds(DAY + dt.timedelta(days=1))[1]
    cash = data.cash
    assert cash.opening == balance(office.cash_account, as_of=since) == Decimal("100.000")
    movements = list(cash.movements())
    assert [(m.kind, m.credit, m.debit) for m in movements] == [
        ("cash_topup", ZERO, Decimal("20.000")),
        ("cash_topup", ZERO, Decimal("5.000")),
        ("void", Decimal("5.000"), ZERO),
        ("float_deposit", Decimal("50.000"), ZERO),
        ("cash_topup", ZERO, Decimal("30.000")),
    ]
    assert [m.balance_after for m in movements] == [Decimal(v) for v in ("80", "75", "80", "130", "100")]
    assert movements[0].receipt == made["big"].receipt_number and movements[0].memo.endswith("comm. 0.200")
    assert movements[2].receipt == made["small"].receipt_number and movements[3].memo == "DEP-777"
    assert cash.closing == balance(office.cash_account, as_of=until) == Decimal("100.000")
    assert {k: (t.count, t.credit, t.debit) for k, t in cash.totals.items()} == {
        "cash_topup": (3, ZERO, Decimal("55.000")),
        "void": (1, Decimal("5.000"), ZERO),
        "float_deposit": (1, Decimal("50.000"), ZERO),
    }
    commission = data.commission
    assert commission is not None and commission.opening == ZERO
    assert [(m.kind, m.credit, m.debit) for m in commission.movements()] == [
        ("cash_topup", Decimal("0.200"), ZERO),
        ("cash_topup", Decimal("0.100"), ZERO),
        ("void", ZERO, Decimal("0.100")),
        ("cash_topup", Decimal("0.300"), ZERO),
    ]
    assert commission.closing == balance(office.commission_account, as_of=until) == Decimal("0.500")


def test_an_internal_offices_statement_counts_top_ups_in_and_the_shortfall_out():
    office, _ = internal_day()
    data = agent_statement(office, DAY, DAY)
    assert data.commission is None
    totals = {k: (t.count, t.credit, t.debit) for k, t in data.cash.totals.items()}
    assert totals == {
        "cash_topup": (4, Decimal("17.250"), ZERO),
        "void": (1, ZERO, Decimal("7.000")),
        "adjustment": (1, ZERO, Decimal("0.500")),
    }
    assert data.cash.opening == Decimal("1.000") and data.cash.closing == Decimal("10.750")


operations = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "top_up", "top_up", "void"]),
        st.integers(min_value=1, max_value=30_000).map(lambda baisa: Decimal(baisa) / 1000),
        st.integers(min_value=0, max_value=2),  # which of three days
        st.integers(min_value=60, max_value=22 * 60),  # minute of that day, Muscat
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, first=st.integers(min_value=0, max_value=2), length=st.integers(min_value=0, max_value=2))
def test_for_random_days_of_an_agent_closing_is_opening_plus_movements_and_the_ledger_agrees(ops, first, length):
    days = [DAY + dt.timedelta(days=n) for n in range(3)]
    start, end = days[first], days[min(first + length, 2)]
    with transaction.atomic():
        with at(muscat(DAY - dt.timedelta(days=1), 8)):
            office = make_office("external", credit_limit="10.000")
            set_commission("percent", "0.500", minimum="0.050", office=office)
        wallet = open_wallet()
        sessions: dict[int, object] = {}
        kept: list[CashTopup] = []
        for action, amount, day, minute in sorted(ops, key=lambda op: (op[2], op[3])):
            when = muscat(days[day], 0) + dt.timedelta(minutes=minute)
            if action == "deposit":
                deposit_at(office, str(amount), when, f"DEP-{minute}")
                continue
            if day not in sessions:
                sessions[day] = session_at(office, when - dt.timedelta(seconds=30), "0.000")
            if action == "top_up":
                try:
                    with transaction.atomic():
                        kept.append(cash_at(sessions[day], wallet, str(amount), when))
                except LimitExceeded:  # the float and its credit do not cover it: refused, nothing written
                    pass
            elif kept and kept[-1].session_id == sessions[day].pk:
                void_at(kept.pop(), when)
        office = Office.objects.select_related("cash_account", "commission_account").get(pk=office.pk)
        data = agent_statement(office, start, end)
        since, until = day_bounds(start)[0], day_bounds(end)[1]
        for part, account in ((data.cash, office.cash_account), (data.commission, office.commission_account)):
            assert part.opening == balance(account, as_of=since)
            movements = list(part.movements())
            assert len(movements) == part.line_count
            running = part.opening
            by_kind: dict[str, list[Decimal]] = {}
            for movement in movements:
                running += movement.credit - movement.debit
                assert movement.balance_after == running and since <= movement.created_at < until
                sums = by_kind.setdefault(movement.kind, [ZERO, ZERO])
                sums[0] += movement.credit
                sums[1] += movement.debit
            assert by_kind == {k: [t.credit, t.debit] for k, t in part.totals.items()}
            assert part.closing == running == balance(account, as_of=until)
            postings = Posting.objects.filter(account=account, created_at__gte=since, created_at__lt=until)
            moved = from_db(postings.aggregate(total=Sum("amount"))["total"]) or ZERO
            assert part.closing == part.opening + account.normal_sign * moved
        transaction.set_rollback(True)


@needs_poppler
def test_the_statement_pdf_reads_in_logical_order(tmp_path):
    office, made = external_days()
    data = agent_statement(office, DAY, DAY + dt.timedelta(days=1))
    text = pdf_text(render_agent_statement(data), tmp_path)
    for expected in [
        "Office statement",
        office.code,
        "2025-03-10 to 2025-03-11",
        "Float deposit: DEP-777",
        f"Voided top-up: {made['small'].receipt_number}",
        f"Cash top-up: {made['big'].receipt_number}",
        "Opening balance",
        "100.000 OMR",
        "Commission payable",
        "0.500 OMR",
        "Page 1 of 1",
    ]:
        assert expected in text, f"{expected!r} missing from:\n{text}"
    for arabic in [
        "كشف حساب المكتب",
        office.name_ar,
        "رصيد الوكيل",
        "إيداع في رصيد الوكيل",
        "إيداع ملغى",
        "إيداع نقدي",
        "العمولة المستحقة",
        "عمولة مستردة",
        "الرصيد الختامي",
        "صادر",
        "وارد",
    ]:
        assert arabic in text, f"{arabic!r} (logical order) missing from:\n{text}"
    assert amounts_on(text, "Closing balance")[-1] == Decimal("100.000")
    numbers = THREE_DECIMALS.findall(text)
    assert numbers and all(re.fullmatch(r"\d+\.\d{3}", n) for n in numbers), numbers


@needs_poppler
def test_a_long_statement_carries_its_page_totals_forward(tmp_path):
    with at(muscat(DAY - dt.timedelta(days=1), 8)):
        office = make_office("internal")
    wallet = open_wallet()
    session = session_at(office, muscat(DAY, 6, 0), "0.000")
    for n in range(95):
        cash_at(session, wallet, f"{n % 9 + 1}.{n % 7}50", muscat(DAY, 6, 1) + dt.timedelta(minutes=10 * n))
    data = agent_statement(office, DAY, DAY)
    plan = plan_pages(data.cash.line_count, first_header=first_header(data))
    pages = pages_text(render_agent_statement(data), tmp_path)
    assert len(pages) == len(plan) >= 2
    forward = (ZERO, ZERO, data.cash.opening)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        if number > 1:
            assert tuple(amounts_on(text, "Brought forward")) == forward
        page_out, page_in = amounts_on(text, "Page total")
        forward = (forward[0] + page_out, forward[1] + page_in, forward[2] + page_in - page_out)
        if number < len(pages):
            assert tuple(amounts_on(text, "Carried forward")) == forward
    assert forward[1] == data.cash.total_credits
    assert amounts_on(pages[-1], "Closing balance") == [data.cash.closing] == [forward[2]]
    assert data.cash.closing == balance(office.cash_account)


# --- the API: who may, and every refusal ------------------------------------------------------------


def statement_url(code: str, query: str = "from=2025-03-10&to=2025-03-11") -> str:
    return f"/api/v1/offices/{code}/statement/?{query}"


def day_url(code: str, query: str = "day=2025-03-10") -> str:
    return f"/api/v1/offices/{code}/day-report.pdf?{query}"


@pytest.mark.parametrize("who", [Role.FINANCE, Role.ADMIN, "own supervisor"])
def test_finance_admin_and_the_offices_own_supervisor_get_the_reports(who):
    office, _ = external_days()
    user = make_cashier(office, supervisor=True).user if who == "own supervisor" else make_user(who)
    client = client_for(user)
    response = client.get(statement_url(office.code))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["office"] == office.code and body["float"]["opening"] == "100.000"
    assert body["float"]["closing"] == "100.000" and body["commission_payable"]["closing"] == "0.500"
    assert body["float"]["totals_by_kind"]["void"] == {"count": 1, "in": "5.000", "out": "0.000"}
    assert [m["kind"] for m in body["float"]["movements"]][-2:] == ["float_deposit", "cash_topup"]
    pdf = client.get(statement_url(office.code, "from=2025-03-10&to=2025-03-11&format=pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert f'filename="office-statement-{office.code}-2025-03-10-2025-03-11.pdf"' in pdf["Content-Disposition"]
    assert pdf["Cache-Control"] == "private, no-store"
    accepted = client.get(statement_url(office.code), HTTP_ACCEPT="application/pdf")
    assert accepted["Content-Type"] == "application/pdf"
    day = client.get(day_url(office.code))
    assert day.status_code == 200 and day.content.startswith(b"%PDF-")
    assert f'filename="day-report-{office.code}-2025-03-10.pdf"' in day["Content-Disposition"]
    assert client.get(f"/api/v1/offices/{office.code}/day-report.pdf").status_code == 200  # today by default


def test_the_reports_are_refused_to_everyone_else_and_refusals_write_nothing(ledger_snapshot):
    office, _ = external_days()
    other_office = make_office("external")
    before = ledger_snapshot()
    outsiders = [
        make_cashier(other_office, supervisor=True).user,  # the supervisor of another office
        make_cashier(office).user,  # a cashier of this office who is not its supervisor
        make_user(Role.CUSTOMER),
        make_user(Role.SERVICE),
        make_user(None),
    ]
    for user in outsiders:
        client = client_for(user)
        assert_problem(client.get(statement_url(office.code)), 403, "forbidden")
        assert_problem(client.get(day_url(office.code)), 403, "forbidden")
    assert APIClient().get(statement_url(office.code)).status_code == 401
    finance = client_for(make_user(Role.FINANCE))
    assert_problem(finance.get(statement_url("NO-SUCH-OFFICE")), 404, "not_found")
    assert_problem(finance.get(day_url("NO-SUCH-OFFICE")), 404, "not_found")
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    for query, field in [
        ("from=2025-03-11&to=2025-03-10", "to"),  # ends before it starts
        (f"from=2025-03-10&to={tomorrow}", "to"),  # ends in the future
        ("from=2025-03-10", "to"),
        ("from=10/03/2025&to=2025-03-11", "from"),
        ("from=2025-03-10&to=2025-03-11&form=x", "form"),
    ]:
        assert assert_problem(finance.get(statement_url(office.code, query)), 400, "invalid_request")["field"] == field
    refused_pdf = finance.get(statement_url(office.code, "from=2025-03-11&to=2025-03-10&format=pdf"))
    assert_problem(refused_pdf, 400, "invalid_request")  # problem+json even when a PDF was asked for
    assert_problem(
        finance.get(statement_url(office.code, "from=2025-03-10&to=2025-03-11&format=xml")), 400, "invalid_request"
    )
    for query, field in [
        (f"day={tomorrow}", "day"),
        ("day=2025-3-10", "day"),
        ("day=2025-03-10&date=2025-03-11", "date"),
    ]:
        assert assert_problem(finance.get(day_url(office.code, query)), 400, "invalid_request")["field"] == field
    assert ledger_snapshot() == before


# --- the counter's link -----------------------------------------------------------------------------


def test_the_counter_links_todays_day_report_of_the_supervisors_office():
    office = make_office("internal")
    cashier = make_cashier(office, supervisor=True)
    session = services.open_session(cashier=cashier, opening_cash=Decimal("5.000"))
    topup(session, open_wallet(), "3.000")
    browser = Client()
    browser.force_login(cashier.user)
    page = browser.get("/counter/session/").content.decode()
    assert 'href="/counter/day-report.pdf"' in page
    response = browser.get("/counter/day-report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert f'filename="day-report-{office.code}-{today().isoformat()}.pdf"' in response["Content-Disposition"]
    stranger = Client()
    stranger.force_login(make_user(Role.FINANCE))
    assert stranger.get("/counter/day-report.pdf").status_code == 403
    plain = make_cashier(office)  # a cashier who is not the supervisor: no link, no report
    services.open_session(cashier=plain, opening_cash=Decimal("1.000"))
    colleague = Client()
    colleague.force_login(plain.user)
    assert "day-report.pdf" not in colleague.get("/counter/session/").content.decode()
    assert colleague.get("/counter/day-report.pdf").status_code == 403
    anonymous = Client().get("/counter/day-report.pdf")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/counter/login/")
