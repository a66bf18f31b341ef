"""The reconciliation report of a day and source: its figures tie out to the statement lines and exceptions,
its PDF reads in order in both languages, and its API refuses what it should."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from erial.roles import Role
from ledger.businessday import today
from reports.reconciliation_pdf import render_reconciliation
from reports.reconciliation_report import ZERO, reconciliation_report
from settlements import services
from settlements.models import ExceptionKind, LineStatus, ReconException, StatementLine
from settlements.reconciliation import reconcile_day
from settlements.selectors import AGE_BUCKETS, OPEN_STATUSES
from tests.api.conftest import assert_problem, client_for, make_user
from tests.factories import D
from tests.reports.conftest import needs_poppler, normalised, pdf_text
from tests.settlements.test_reconciliation import paid_online, statement

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/reconciliation/"


def bank_day(day: dt.date) -> None:
    """Two bank top-ups that match, one with the wrong amount, one never on the statement, an unknown credit
    and a debit nobody explains; then the day is reconciled."""
    first, second = paid_online("bank", "10.000"), paid_online("bank", "5.500")
    wrong, _missing = paid_online("bank", "9.000"), paid_online("bank", "3.000")
    statement(
        "bank",
        day,
        [
            {"amount": "10.000", "reference": first.reference},
            {"amount": "5.500", "reference": second.reference},
            {"amount": "9.500", "reference": wrong.reference},
            {"amount": "42.000", "reference": "NOBODY", "description": "Cash deposit"},
            {"amount": "-1.250", "reference": "CHARGES", "description": "Bank charges"},
        ],
    )
    reconcile_day(day=day, source="bank")


def tally(queryset) -> tuple[int, Decimal]:
    found = queryset.aggregate(n=Count("id"), total=Sum("amount"))
    return found["n"], (found["total"] or ZERO).quantize(ZERO)


def test_line_figures_tie_out_to_the_statement_lines():
    day = today()
    bank_day(day)
    report = reconciliation_report(day=day, source="bank")
    lines = StatementLine.objects.filter(source="bank", booking_date=day)
    assert (report.imported.count, report.imported.amount) == tally(lines)
    for status in LineStatus.values:
        assert (report.lines[status].count, report.lines[status].amount) == tally(lines.filter(status=status))
    assert sum((t.count for t in report.lines.values()), 0) == report.imported.count
    assert sum((t.amount for t in report.lines.values()), ZERO) == report.imported.amount
    assert (report.matched.count, report.matched.amount) == (2, D("15.500"))
    assert (report.settled.count, report.settled.amount) == tally(lines.filter(settled_entry__isnull=False))
    assert report.run is not None and report.run.matched == report.matched.count
    assert report.run.settled_amount == report.settled.amount
    assert report.gross is None  # a bank has no card gross or fees


def test_exceptions_by_kind_and_by_age_cover_the_same_exceptions_open_and_resolved():
    day = today()
    bank_day(day)
    report = reconciliation_report(day=day, source="bank")
    exceptions = ReconException.objects.filter(source="bank", business_day__lte=day)
    for row in report.by_kind:
        of_kind = exceptions.filter(kind=row.key)
        assert (row.open.count, row.open.amount) == tally(of_kind.filter(status__in=OPEN_STATUSES))
        assert (row.resolved.count, row.resolved.amount) == tally(of_kind.exclude(status__in=OPEN_STATUSES))
    assert [row.key for row in report.by_kind] == list(ExceptionKind.values)
    by_age = sum(report.by_age, type(report.exceptions)("total"))
    assert by_age == report.exceptions
    assert (report.exceptions.total.count, report.exceptions.total.amount) == tally(exceptions)
    # Today's exceptions are all 0-1 days old.
    assert report.by_age[0].total == report.exceptions.total

    # Finance writes the unknown credit off (maker-checker): it moves from open to resolved, the totals stay.
    unknown = ReconException.objects.get(kind=ExceptionKind.UNMATCHED_LINE, amount=D("42.000"))
    proposal = services.propose(
        exception=unknown, action="write_off", actor=make_user(Role.FINANCE), note="Unknown depositor"
    )
    services.approve(resolution=proposal, actor=make_user(Role.FINANCE))
    after = reconciliation_report(day=day, source="bank")
    row = next(row for row in after.by_kind if row.key == ExceptionKind.UNMATCHED_LINE)
    before = next(row for row in report.by_kind if row.key == ExceptionKind.UNMATCHED_LINE)
    assert row.resolved.count == before.resolved.count + 1 and row.resolved.amount == before.resolved.amount + 42
    assert row.open.count == before.open.count - 1
    assert after.exceptions.total == report.exceptions.total
    assert after.lines[LineStatus.RESOLVED].amount == D("42.000")


def test_ageing_puts_each_day_in_its_bucket_and_ignores_later_days():
    now = today()
    ages = [0, 2, 5, 9]
    for n, age in enumerate(ages):
        day = now - dt.timedelta(days=age)
        statement("bank", day, [{"amount": f"{n + 1}.000", "reference": f"UNKNOWN-{n}"}])
        reconcile_day(day=day, source="bank")
    report = reconciliation_report(day=now, source="bank")
    assert [bucket.key for bucket in AGE_BUCKETS] == [row.key for row in report.by_age]
    for age, row in zip(ages, report.by_age, strict=True):
        assert row.key == next(b.key for b in AGE_BUCKETS if b.holds(age))
        assert (row.open.count, row.open.amount) == (1, D(f"{ages.index(age) + 1}.000"))
    earlier = reconciliation_report(day=now - dt.timedelta(days=5), source="bank")
    assert earlier.exceptions.open.count == 2  # the days 5 and 9 days ago; not the later ones
    assert [row.open.count for row in earlier.by_age] == [1, 0, 1, 0]  # 0 and 4 days old on that day


def test_a_gateway_day_reports_gross_and_fees():
    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": b.reference, "batch_id": "B"},
        ],
        batches=[{"batch_id": "B", "gross": D("30.000"), "fee": D("0.600"), "net": D("29.400")}],
    )
    statement("bank", day, [{"amount": "29.400", "reference": "B"}])
    reconcile_day(day=day, source="gateway")
    report = reconciliation_report(day=day, source="gateway")
    assert (report.gross, report.fees) == (D("30.000"), D("0.600"))
    assert report.imported.amount == report.gross - report.fees
    assert (report.matched.count, report.settled.count) == (2, 2)


def test_a_day_never_reconciled_is_an_empty_report():
    report = reconciliation_report(day=today() - dt.timedelta(days=30), source="gateway")
    assert report.run is None and report.imported.count == 0 and report.exceptions.total.count == 0


# --- the PDF ----------------------------------------------------------------------------------------


@needs_poppler
def test_the_pdf_reads_in_order_with_the_figures_and_arabic_labels(tmp_path):
    day = today()
    bank_day(day)
    report = reconciliation_report(day=day, source="bank")
    text = pdf_text(render_reconciliation(report), tmp_path)
    order = [
        "Reconciliation report",
        day.isoformat(),
        "Partner bank",
        "Statement lines",
        "Lines imported",
        "Matched",
        "Exceptions by kind",
        "Statement line not in",  # long labels wrap
        "Exceptions by age",
        "0-1 days",
        "More than 7 days",
    ]
    positions = [text.find(words) for words in order]
    assert -1 not in positions, [w for w, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions), text

    def line_of(label: str) -> list[str]:
        """The words of the first line that starts with ``label``, after it."""
        line = next(line for line in text.splitlines() if line.strip().startswith(label))
        return line.strip()[len(label) :].split()

    assert line_of("Lines imported")[:2] == [str(report.imported.count), f"{report.imported.amount:.3f}"]
    assert line_of("Matched")[:2] == [str(report.matched.count), f"{report.matched.amount:.3f}"]
    total = report.exceptions
    expected = [total.open.count, total.open.amount, total.resolved.count, total.resolved.amount]
    assert line_of("Total")[:4] == [f"{value:.3f}" if isinstance(value, Decimal) else str(value) for value in expected]
    for arabic in ["تقرير المطابقة", "البنك الشريك", "حركات الكشف", "الاستثناءات حسب النوع", "الإجمالي", "بلدية مسقط"]:
        assert arabic in text, f"{arabic!r} (logical order) missing from:\n{text}"
    numbers = re.findall(r"(?<![\d])\d+\.\d+(?![\d.])", text)
    assert numbers and all(re.fullmatch(r"\d+\.\d{3}", n) for n in numbers), numbers


@needs_poppler
def test_the_gateway_pdf_says_so_and_shows_gross_and_fees(tmp_path):
    report = reconciliation_report(day=today(), source="gateway")
    text = normalised(pdf_text(render_reconciliation(report), tmp_path))
    assert "Card gateway" in text and "بوابة الدفع بالبطاقات" in text
    assert "Card payments (gross)" in text and "Gateway fees" in text and "Not reconciled yet" in text


# --- the API ----------------------------------------------------------------------------------------


def test_finance_gets_the_report_as_json_and_as_pdf():
    day = today()
    bank_day(day)
    client = client_for(make_user(Role.FINANCE))
    response = client.get(URL, {"day": day.isoformat(), "source": "bank"})
    assert response.status_code == 200, response.content
    body = response.json()
    report = reconciliation_report(day=day, source="bank")
    assert body["lines"]["imported"] == {"count": report.imported.count, "amount": f"{report.imported.amount:.3f}"}
    assert body["lines"]["matched"]["amount"] == f"{report.matched.amount:.3f}"
    assert body["exceptions"]["total"]["open"]["count"] == report.exceptions.open.count
    assert [row["key"] for row in body["exceptions"]["by_age"]] == [b.key for b in AGE_BUCKETS]
    pdf = client.get(URL, {"day": day.isoformat(), "source": "bank", "format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and f"reconciliation-bank-{day}" in pdf["Content-Disposition"]


@pytest.mark.parametrize(
    "params",
    [
        {"day": "2025-03-01", "source": "cash"},
        {"day": "2025-03-01"},
        {"day": "2025-02-30", "source": "bank"},
        {"day": "01/03/2025", "source": "bank"},
        {"source": "bank"},
        {"day": "2025-03-01", "source": "bank", "sorce": "bank"},
        {"day": "2025-03-01", "source": "bank", "format": "xml"},
    ],
)
def test_bad_parameters_are_refused(params):
    client = client_for(make_user(Role.FINANCE))
    assert_problem(client.get(URL, params), 400, "invalid_request")


def test_a_future_day_is_refused_and_today_is_not():
    client = client_for(make_user(Role.FINANCE))
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    body = assert_problem(client.get(URL, {"day": tomorrow, "source": "bank", "format": "pdf"}), 400, "invalid_request")
    assert "future" in body["detail"]
    assert client.get(URL, {"day": today().isoformat(), "source": "bank"}).status_code == 200


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT, Role.SERVICE, Role.ADMIN, None])
def test_only_finance_gets_the_report(role):
    client = client_for(make_user(role))
    params = {"day": today().isoformat(), "source": "bank", "format": "pdf"}
    assert_problem(client.get(URL, params), 403, "forbidden")


def test_anonymous_is_refused():
    from rest_framework.test import APIClient

    response = APIClient().get(URL, {"day": today().isoformat(), "source": "bank"})
    assert response.status_code == 401
