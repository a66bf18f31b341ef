"""The two day reports, ``offices/{code}/day-report/`` (JSON) and ``.../day-report.pdf``, take the business day
under the same names: ``day`` (as the README and the reconciliation report call it) and ``date`` (the JSON
report's first name, kept as an alias). A malformed day is one 400 ``invalid_request`` naming the parameter,
and a refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from erial.roles import Role
from ledger.businessday import today
from tests.agents.conftest import make_office, open_session, topup
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet

pytestmark = pytest.mark.django_db

JSON, PDF = "day-report/", "day-report.pdf"
PAST = "2025-03-10"


@pytest.fixture
def office():
    """An internal office with one top-up today."""
    office = make_office("internal")
    topup(open_session(office, "5.000"), open_wallet(), "7.000")
    return office


@pytest.fixture
def finance():
    return client_for(make_user(Role.FINANCE))


def url(office, report: str, query: str = "") -> str:
    return f"/api/v1/offices/{office.code}/{report}" + (f"?{query}" if query else "")


def day_of(response, report: str) -> str:
    """The business day a report answered for."""
    assert response.status_code == 200, response.content
    if report == JSON:
        return response.json()["business_day"]
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    return response["Content-Disposition"].split(".pdf")[0][-10:]


@pytest.mark.parametrize("report", [JSON, PDF])
@pytest.mark.parametrize("name", ["day", "date"])
def test_both_reports_take_day_and_its_alias_date(office, finance, report, name):
    assert day_of(finance.get(url(office, report, f"{name}={PAST}")), report) == PAST
    assert day_of(finance.get(url(office, report, f"{name}={today().isoformat()}")), report) == today().isoformat()
    assert day_of(finance.get(url(office, report)), report) == today().isoformat()  # neither: today


@pytest.mark.parametrize("name", ["day", "date"])
def test_the_day_asked_for_is_the_day_reported(office, finance, name):
    """Not silently today: the top-up made today is in today's report and not in another day's."""
    asked_today = finance.get(url(office, JSON, f"{name}={today().isoformat()}")).json()
    assert asked_today["topups"] == {"count": 1, "amount": "7.000", "commission": "0.000"}
    assert finance.get(url(office, JSON, f"{name}={PAST}")).json()["topups"]["count"] == 0


@pytest.mark.parametrize("report", [JSON, PDF])
def test_day_and_date_together_must_agree(office, finance, report):
    assert day_of(finance.get(url(office, report, f"day={PAST}&date={PAST}")), report) == PAST
    refused = assert_problem(finance.get(url(office, report, f"day={PAST}&date=2025-03-11")), 400, "invalid_request")
    assert refused["field"] == "date"


TOMORROW = "tomorrow"
BAD_VALUES = [
    "2025-3-10",  # not zero-padded
    "10/03/2025",
    "2025-02-30",  # the right shape, not a day
    "20250310",  # ISO basic format: Python reads it, the API does not
    "2025-03-10T00:00",
    "٢٠٢٥-٠٣-١٠",  # Arabic-Indic digits: the API takes ASCII digits
    "",
    "today",
    TOMORROW,
]


@pytest.mark.parametrize("report", [JSON, PDF])
@pytest.mark.parametrize("name", ["day", "date"])
def test_a_malformed_or_future_day_is_one_clear_400_and_writes_nothing(office, finance, ledger_snapshot, report, name):
    before = ledger_snapshot()
    for value in BAD_VALUES:
        if value == TOMORROW:
            value = (today() + dt.timedelta(days=1)).isoformat()
        response = finance.get(url(office, report, f"{name}={value}"))
        body = assert_problem(response, 400, "invalid_request")  # problem+json, also when a PDF was asked for
        assert body["field"] == name, (value, body)
        assert name in body["detail"], body
    assert ledger_snapshot() == before


@pytest.mark.parametrize("report", [JSON, PDF])
def test_unknown_or_repeated_parameters_are_refused(office, finance, ledger_snapshot, report):
    before = ledger_snapshot()
    for query, field in [
        (f"dya={PAST}", "dya"),  # a typo is not silently today
        (f"day={PAST}&format=json", "format"),
        (f"day={PAST}&day=2025-03-11", "day"),
        (f"date={PAST}&date={PAST}", "date"),
    ]:
        body = assert_problem(finance.get(url(office, report, query)), 400, "invalid_request")
        assert body["field"] == field, (query, body)
    assert ledger_snapshot() == before


def test_the_schema_documents_both_names_on_both_reports(finance):
    schema = finance.get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/offices/{code}/day-report/", "/api/v1/offices/{code}/day-report.pdf"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}
        assert set(parameters) == {"day", "date"}, path
        assert all(p["schema"]["format"] == "date" and not p.get("required") for p in parameters.values())
