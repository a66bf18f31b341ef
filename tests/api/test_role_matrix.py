"""Each role against each endpoint: allowed or refused, and a customer never sees another's wallet.

The table is tests/api/matrix_cases.py: one row per route and method under /api/v1/ (a guard test below fails
when the URLconf has a route the table does not cover), one expected answer per actor. The world (wallets,
offices, cashiers, a session, a payment, a receipt, an online top-up) is built once for the module, inside a
transaction rolled back at its end; every case runs in its own savepoint, so an allowed call that changes
something (a closed wallet, a terminated office) is undone before the next.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import URLResolver, get_resolver, resolve
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agents import services as agent_services
from erial.roles import Role
from ledger.businessday import today
from ledger.chart import ensure_services, ensure_system_chart
from ledger.models import Service
from ledger.payments import pay_fee, system_account_id
from tests.agents.conftest import make_cashier, make_office
from tests.api.conftest import make_user, open_wallet
from tests.api.matrix_cases import (
    ACTORS,
    ADMIN,
    AGENT,
    AGENT_ELSEWHERE,
    ANONYMOUS,
    COLLEAGUE,
    FINANCE,
    GROWN,
    NO_ROLE,
    OTHER,
    OWNER,
    PLACEHOLDERS,
    ROWS,
    SERVICE,
    Outcome,
    Row,
)
from topups import services as topup_services
from topups.models import OnlineTopup

PROBLEM_JSON = "application/problem+json"


def _token(user) -> str:
    return f"Token {Token.objects.get_or_create(user=user)[0].key}"


def _build_world() -> dict:
    ensure_system_chart()
    ensure_services()
    system_account_id.cache_clear()
    owner, other, newcomer = (make_user(Role.CUSTOMER) for _ in range(3))
    wallet = open_wallet("50.000", user=owner)
    open_wallet("50.000", user=other)
    unclaimed = open_wallet()  # opened at an office, no portal login yet
    office, office_b, onboarding = make_office("internal"), make_office("internal"), make_office(active=False)
    agent = make_cashier(office, supervisor=True)
    colleague = make_cashier(office)
    elsewhere = make_cashier(office_b, supervisor=True)
    session = agent_services.open_session(cashier=agent, opening_cash=Decimal("20.000"))
    cash = agent_services.record_cash_topup(
        session=session,
        wallet=wallet,
        amount=Decimal("10.000"),
        actor=agent.user,
        idempotency_key=uuid.uuid4().hex,
        scope="matrix",
    )
    payment = pay_fee(
        wallet=wallet,
        service=Service.objects.get(code="parking_fine"),
        bill_reference="F-1",
        amount=Decimal("5.000"),
        actor=owner,
        idempotency_key=uuid.uuid4().hex,
        scope="matrix",
    )
    online = topup_services.initiate(wallet=wallet, amount=Decimal("7.000"), channel="bank", actor=owner)
    users = {
        OWNER: owner,
        OTHER: other,
        AGENT: agent.user,
        COLLEAGUE: colleague.user,
        AGENT_ELSEWHERE: elsewhere.user,
        FINANCE: make_user(Role.FINANCE),
        SERVICE: make_user(Role.SERVICE),
        ADMIN: make_user(Role.ADMIN),
        NO_ROLE: make_user(None),
    }
    return {
        "client": APIClient(),
        "users": users,
        "tokens": {actor: _token(user) for actor, user in users.items()},
        "newcomer_token": _token(newcomer),
        "wallet_obj": wallet,
        "office_obj": office,
        "online_obj": online,
        "wallet": wallet.number,
        "unclaimed": unclaimed.number,
        "payment": str(payment.pk),
        "office": office.code,
        "onboarding": onboarding.code,
        "session": str(session.pk),
        "counted_cash": "30.000",  # opening 20.000 + the 10.000 top-up: no difference, no note needed
        "cash_topup": str(cash.pk),
        "receipt": cash.receipt_number,
        "online": str(online.pk),
        "online_reference": online.reference,
        "today": today().isoformat(),
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once; the outer transaction is rolled back after the module, each test's savepoint after it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            system_account_id.cache_clear()


@pytest.fixture(autouse=True)
def _system_chart():
    """Overrides tests/conftest.py's (about 30 queries a case): the world ensured the system chart and the
    services once, and every case runs inside the module's transaction, where nothing flushes them."""


def _cases():
    for row in ROWS:
        for actor in ACTORS:
            yield pytest.param(row, actor, id=f"{row.id}-{actor}")


def _client(world: dict, row: Row, actor: str) -> APIClient:
    """The module's one client, as ``actor``: a new client per call would load the middleware again each time
    (WhiteNoise scans the static files), most of a case's time."""
    client = world["client"]
    client.cookies.clear()
    if actor == ANONYMOUS:
        client.credentials()
    elif actor == OTHER and row.other_is_newcomer:
        client.credentials(HTTP_AUTHORIZATION=world["newcomer_token"])
    else:
        client.credentials(HTTP_AUTHORIZATION=world["tokens"][actor])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("row", "actor"), list(_cases()))
def test_role_matrix(world, ledger_snapshot, row: Row, actor: str):
    if row.prepare:
        row.prepare(world)
    client = _client(world, row, actor)
    url = row.path.format(**world)
    kwargs = {"format": "json"}
    if row.method == "post":
        kwargs["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex
    before = ledger_snapshot()

    response = getattr(client, row.method)(url, row.body(world) if row.body else None, **kwargs)

    code = None
    if response.status_code >= 400:
        assert response["Content-Type"].startswith(PROBLEM_JSON), (response.status_code, response.content[:300])
        problem = response.json()
        assert problem["status"] == response.status_code
        code = problem["code"]
    else:
        assert response["Content-Type"].startswith(row.content_type), response["Content-Type"]
    actual = Outcome(response.status_code, code)
    if actual.status >= 400 or row.method == "get":
        assert ledger_snapshot() == before, f"{row.id} by {actor} answered {actual} but changed the ledger"
    if row.signed_partner_only:  # and the top-up the callback named was not credited
        assert OnlineTopup.objects.get(pk=world["online_obj"].pk).status == "initiated"

    grown = GROWN.get((row.id, actor))
    expected = grown.outcome if grown else row.expected[actor]
    assert actual == expected, (row.id, actor, response.content[:300])


# --- the guard: every route under /api/v1/ is in the matrix ---------------------------------------------
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes() -> dict[str, set[str] | None]:
    """Every route under api/v1/ in the URLconf -> the methods its view handles (None: a function view)."""
    api = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/")
    routes: dict[str, set[str] | None] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            view = getattr(pattern.callback, "view_class", None)
            methods = {m for m in HTTP_METHODS if hasattr(view, m)} if view else None
            routes[prefix + str(pattern.pattern)] = methods

    walk(api.url_patterns, "api/v1/")
    return routes


def _covered() -> set[tuple[str, str]]:
    return {(resolve(urlsplit(row.path.format(**PLACEHOLDERS)).path).route, row.method) for row in ROWS}


def test_every_api_route_and_method_is_in_the_matrix():
    routes = _api_routes()
    assert len(routes) >= 30, sorted(routes)
    covered = _covered()
    missing = []
    for route, methods in routes.items():
        if methods is None:  # a plain function view (the partner callback): at least one row
            if not any(r == route for r, _ in covered):
                missing.append(route)
        else:
            missing += [f"{method.upper()} {route}" for method in sorted(methods) if (route, method) not in covered]
    assert not missing, f"routes with no row in tests/api/matrix_cases.py: {missing}"


def test_every_matrix_row_is_a_real_route_with_every_actor():
    routes = _api_routes()
    for route, method in _covered():
        assert route in routes, route
        assert routes[route] is None or method in routes[route], (method, route)
    assert len({row.id for row in ROWS}) == len(ROWS)
    for row in ROWS:
        assert set(row.expected) == set(ACTORS), row.id
    for row_id, actor in GROWN:
        assert row_id in {row.id for row in ROWS} and actor in ACTORS, (row_id, actor)
