"""No N+1: every endpoint that lists rows costs the same number of queries for 1 row as for 50.

Each case below builds one row of what its endpoint lists (payments, top-ups, voids, sessions, postings,
accounts, services, statement lines, exceptions), counts the queries of one GET, adds 49 more rows, proves the
endpoint now lists 49 more, and counts again: the two counts must be equal. ``test_every_get_route_is_classified``
walks the URLconf under /api/v1/ so a new GET route fails until it is either a case here or named as not a list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from agents import services as agents
from erial.roles import Role
from ledger import services as ledger
from ledger.businessday import today
from ledger.models import AccountKind, Service
from reports.agent_statement import agent_statement, as_json
from reports.office_day import office_day
from reports.statements import statement_data
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import client_for, make_user, open_wallet
from tests.factories import pay, top_up
from tests.settlements.test_reconciliation import statement

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def _wallet_with_payments(count: int):
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet("1000.000", user=owner)
    for _ in range(count - 1):  # the top-up is the first row
        pay(wallet.account, "1.000")
    return client_for(owner), wallet


@pytest.mark.parametrize("url", ["/api/v1/accounts/{number}/transactions/?limit=50", "/api/v1/accounts/{number}/"])
def test_wallet_reads_cost_the_same_for_1_and_50_rows(url):
    one_client, one = _wallet_with_payments(1)
    many_client, many = _wallet_with_payments(50)
    assert len(many_client.get(url.format(number=many.number)).json().get("results", [None] * 50)) == 50
    assert queries_for(one_client, url.format(number=one.number)) == queries_for(
        many_client, url.format(number=many.number)
    )


def test_services_list_is_one_query_however_many_services():
    client = client_for(make_user(Role.SERVICE))
    few = queries_for(client, "/api/v1/services/")
    revenue = Service.objects.first().revenue_account
    Service.objects.bulk_create(
        [
            Service(code=f"svc-{uuid.uuid4().hex[:8]}", name_en="x", name_ar="س", revenue_account=revenue)
            for _ in range(49)
        ]
    )
    assert queries_for(client, "/api/v1/services/") == few


def test_payment_detail_with_many_refunds_costs_the_same(api):
    from tests.api.test_payments_api import pay as pay_api

    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet("100.000", user=owner)
    client = client_for(owner)
    finance, _ = api(Role.FINANCE)
    one = pay_api(client, wallet.number, "50.000").json()["id"]
    many = pay_api(client, wallet.number, "40.000").json()["id"]
    for _ in range(20):
        finance.post(
            f"/api/v1/payments/{many}/refunds/",
            {"amount": "1.000", "reason": "r"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
    assert queries_for(client, f"/api/v1/payments/{one}/") == queries_for(client, f"/api/v1/payments/{many}/")


# --- the reports: one case per endpoint and per thing it lists ------------------------------------------


@dataclass
class Scenario:
    """``url`` read by ``client``; ``add(n)`` books n more rows of what it lists; ``rows(response)`` says how
    many it lists now (from the answer itself for JSON, from the report's data for a PDF)."""

    client: object
    url: str
    add: Callable[[int], None]
    rows: Callable[[object], int]


def _key() -> str:
    return uuid.uuid4().hex


def _finance():
    return client_for(make_user(Role.FINANCE))


def _cash_in(session, amount: str = "1.000"):
    return agents.record_cash_topup(
        session=session,
        wallet=open_wallet(),  # a wallet per top-up: the report names each one
        amount=Decimal(amount),
        actor=session.cashier.user,
        idempotency_key=_key(),
        scope="test",
    )


def _void(topup) -> None:
    agents.void_cash_topup(topup=topup, actor=topup.session.cashier.user, reason="wrong wallet", idempotency_key=_key())


def _topups_and_voids(office):
    """One open session at ``office``; each row is a top-up, every other one voided the same day."""
    session = agents.open_session(cashier=make_cashier(office), opening_cash=Decimal("5.000"))
    made = []

    def add(n: int) -> None:
        for _ in range(n):
            made.append(_cash_in(session))
            if len(made) % 2 == 0:
                _void(made[-1])

    return add


def _sessions(office):
    """Each row is a cashier session with one top-up; every other session is counted and closed."""
    opened = []

    def add(n: int) -> None:
        for _ in range(n):
            cashier = make_cashier(office)
            session = agents.open_session(cashier=cashier, opening_cash=Decimal("5.000"))
            _cash_in(session)
            opened.append(session)
            if len(opened) % 2 == 0:
                agents.close_session(session=session, counted_cash=Decimal("6.000"), actor=cashier.user)

    return add


def day_report_json(grow: str) -> Scenario:
    office = make_office("internal")
    add = _topups_and_voids(office) if grow == "topups" else _sessions(office)

    def rows(response) -> int:
        body = response.json()
        if grow == "topups":
            return body["topups"]["count"] + body["voids"]["count"]
        return len(body["sessions"])

    return Scenario(_finance(), f"/api/v1/offices/{office.code}/day-report/", add, rows)


def day_report_pdf(grow: str) -> Scenario:
    office = make_office("internal")
    add = _topups_and_voids(office) if grow == "topups" else _sessions(office)

    def rows(response) -> int:
        assert response.content.startswith(b"%PDF-")
        data = office_day(office, today())
        return len(data.topups) if grow == "topups" else len(data.sessions)

    return Scenario(_finance(), f"/api/v1/offices/{office.code}/day-report.pdf", add, rows)


def office_statement(fmt: str) -> Scenario:
    """An external agent (its float and its commission payable both move): top-ups and voids."""
    office = make_office("external", float_="500.000")
    day = today().isoformat()

    def rows(response) -> int:
        if fmt == "json":
            body = response.json()
        else:
            assert response.content.startswith(b"%PDF-")
            body = as_json(agent_statement(office, today(), today()))
        return sum(m["kind"] == "cash_topup" for m in body["float"]["movements"])  # each void is one more

    suffix = "&format=pdf" if fmt == "pdf" else ""
    url = f"/api/v1/offices/{office.code}/statement/?from={day}&to={day}{suffix}"
    return Scenario(_finance(), url, _topups_and_voids(office), rows)


def account_statement() -> Scenario:
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    day = today().isoformat()

    def add(n: int) -> None:
        for _ in range(n):
            top_up(wallet.account, "1.100")
            pay(wallet.account, "1.000")

    def rows(response) -> int:
        assert response.content.startswith(b"%PDF-")
        return statement_data(wallet, today(), today()).line_count // 2

    return Scenario(client_for(owner), f"/api/v1/accounts/{wallet.number}/statement/?from={day}&to={day}", add, rows)


def revenue(fmt: str, grow: str) -> Scenario:
    """Rows are payments (each service in turn, every third one refunded) or services with a payment each."""
    wallet = open_wallet("1000.000")
    codes = list(Service.objects.values_list("code", flat=True))
    count = [0]

    def add_payment(code: str) -> None:
        payment = pay(wallet.account, "1.000", service=code)
        count[0] += 1
        if count[0] % 3 == 0:
            ledger.reverse(entry=payment, reason="refund", idempotency_key=_key())

    def add(n: int) -> None:
        for _ in range(n):
            if grow == "payments":
                add_payment(codes[count[0] % len(codes)])
                continue
            code = f"svc{uuid.uuid4().hex[:8]}"
            account = ledger.open_account(code=f"revenue.{code}", name=code, kind=AccountKind.INCOME)
            Service.objects.create(code=code, name_en=code, name_ar="خدمة", revenue_account=account)
            add_payment(code)

    day = today().isoformat()
    url = f"/api/v1/reports/revenue/?from={day}&to={day}"

    def rows(response) -> int:
        body = _as_json(response, url)
        return body["totals"]["payments"] if grow == "payments" else len(body["services"])

    return Scenario(_finance(), url + ("&format=pdf" if fmt == "pdf" else ""), add, rows)


def trial_balance(query: str) -> Scenario:
    """Rows are wallets, each topped up and paying once: accounts (``detail=accounts``) and postings."""

    def add(n: int) -> None:
        for _ in range(n):
            wallet = open_wallet("2.000")
            pay(wallet.account, "1.000")

    url = "/api/v1/reports/trial-balance/" + query.replace("{today}", today().isoformat())

    def rows(response) -> int:
        body = _as_json(response, url.replace("&format=pdf", ""))
        return sum(line["accounts"] for line in body["lines"])  # one line per account with detail=accounts

    return Scenario(_finance(), url, add, rows)


def reconciliation(fmt: str) -> Scenario:
    """Rows are bank statement lines nobody explains (each an exception), reconciled after each import."""
    from settlements.reconciliation import reconcile_day

    day = today()

    def add(n: int) -> None:
        lines = [{"amount": "1.000", "reference": f"NOBODY-{_key()[:10]}", "description": "?"} for _ in range(n)]
        statement("bank", day, lines)
        reconcile_day(day=day, source="bank")

    url = f"/api/v1/reports/reconciliation/?day={day.isoformat()}&source=bank"

    def rows(response) -> int:
        body = _as_json(response, url)
        assert body["exceptions"]["total"]["open"]["count"] == body["lines"]["imported"]["count"]
        return body["lines"]["imported"]["count"]

    return Scenario(_finance(), url + ("&format=pdf" if fmt == "pdf" else ""), add, rows)


def _as_json(response, json_url: str) -> dict:
    """The report as JSON: ``response`` itself, or (for its PDF) the same report read again as JSON."""
    if response["Content-Type"] == "application/pdf":
        assert response.content.startswith(b"%PDF-")
        response = _finance().get(json_url)
    assert response.status_code == 200, response.content
    return response.json()


@dataclass(frozen=True)
class Case:
    route: str  # as written in the URLconf under /api/v1/
    build: Callable[[], Scenario]


CASES: dict[str, Case] = {
    "day-report topups+voids": Case("offices/<str:code>/day-report/", lambda: day_report_json("topups")),
    "day-report sessions": Case("offices/<str:code>/day-report/", lambda: day_report_json("sessions")),
    "day-report.pdf topups+voids": Case("offices/<str:code>/day-report.pdf", lambda: day_report_pdf("topups")),
    "day-report.pdf sessions": Case("offices/<str:code>/day-report.pdf", lambda: day_report_pdf("sessions")),
    "office statement json": Case("offices/<str:code>/statement/", lambda: office_statement("json")),
    "office statement pdf": Case("offices/<str:code>/statement/", lambda: office_statement("pdf")),
    "account statement pdf": Case("accounts/<str:number>/statement/", account_statement),
    "revenue json payments": Case("reports/revenue/", lambda: revenue("json", "payments")),
    "revenue json services": Case("reports/revenue/", lambda: revenue("json", "services")),
    "revenue pdf payments": Case("reports/revenue/", lambda: revenue("pdf", "payments")),
    "revenue pdf services": Case("reports/revenue/", lambda: revenue("pdf", "services")),
    "trial-balance json": Case("reports/trial-balance/", lambda: trial_balance("")),
    "trial-balance json accounts": Case("reports/trial-balance/", lambda: trial_balance("?detail=accounts")),
    "trial-balance json as_of": Case("reports/trial-balance/", lambda: trial_balance("?as_of={today}")),
    "trial-balance pdf accounts": Case(
        "reports/trial-balance/", lambda: trial_balance("?detail=accounts&as_of={today}&format=pdf")
    ),
    "reconciliation json": Case("reports/reconciliation/", lambda: reconciliation("json")),
    "reconciliation pdf": Case("reports/reconciliation/", lambda: reconciliation("pdf")),
}


@pytest.mark.parametrize("name", CASES)
def test_a_list_costs_the_same_for_1_and_50_rows(name):
    case = CASES[name]
    scenario = case.build()
    before = scenario.rows(scenario.client.get(scenario.url))
    scenario.add(1)
    scenario.client.get(scenario.url)  # warm what a process caches once (system account ids, the fee in force)
    one = queries_for(scenario.client, scenario.url)
    assert scenario.rows(scenario.client.get(scenario.url)) == before + 1
    scenario.add(49)
    many = queries_for(scenario.client, scenario.url)
    assert scenario.rows(scenario.client.get(scenario.url)) == before + 50
    assert many == one, f"{name}: {one} queries for 1 row, {many} for 50"


# --- every GET route under /api/v1/ is either a case above or named here as not a list ------------------

#: GET routes that answer one object, not a list of rows (with what is checked about them elsewhere).
NOT_LISTS = {
    "accounts/<str:number>/": "one account (its cost with 50 rows of history: test_wallet_reads_...)",
    "payments/<uuid:payment_id>/": "one payment, refunds summed (test_payment_detail_with_many_refunds_...)",
    "offices/<str:code>/": "one office and its balances",
    "receipts/<str:receipt_number>/": "one receipt, JSON or PDF",
    "topups/online/<uuid:topup_id>/": "one online top-up",
    "schema/": "the OpenAPI document: no rows",
}
#: List routes counted by their own tests above rather than by a case.
LISTED_ELSEWHERE = {
    "accounts/<str:number>/transactions/": "test_wallet_reads_cost_the_same_for_1_and_50_rows",
    "services/": "test_services_list_is_one_query_however_many_services",
}
#: Function views (no class to ask for ``get``): said here, and proved by a GET answering 405.
NO_GET_FUNCTIONS = {"callbacks/<str:channel>/": "/api/v1/callbacks/bank/"}


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def api_routes() -> dict[str, Callable]:
    prefix = "api/v1/"
    routes = dict(_routes(get_resolver().url_patterns))
    return {route.removeprefix(prefix): view for route, view in routes.items() if route.startswith(prefix)}


def test_every_get_route_is_classified(client):
    routes = api_routes()
    assert routes, "no route under /api/v1/ found"
    covered = {case.route for case in CASES.values()} | set(LISTED_ELSEWHERE)
    known = covered | set(NOT_LISTS) | set(NO_GET_FUNCTIONS)
    assert not known - set(routes), f"stale entries, no such route: {sorted(known - set(routes))}"
    assert not covered & set(NOT_LISTS), "a route is both a list and not one"
    assert all(callable(globals().get(test)) for test in LISTED_ELSEWHERE.values())
    unclassified = []
    for route, view in routes.items():
        view_class = getattr(view, "view_class", None)
        if view_class is None:
            if route not in NO_GET_FUNCTIONS:
                unclassified.append(f"{route} (a function view: add it to NO_GET_FUNCTIONS or to CASES)")
            continue
        if hasattr(view_class, "get") and route not in covered | set(NOT_LISTS):
            unclassified.append(route)
    assert not unclassified, f"GET routes with no query-count case and not named as single objects: {unclassified}"
    for url in NO_GET_FUNCTIONS.values():
        assert client.get(url).status_code == 405
