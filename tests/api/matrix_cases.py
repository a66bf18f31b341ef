"""The role matrix as data: every route under /api/v1/ (one row per method, a few per format), the expected
answer for every actor, and the known differences between ../shared/api.md and the code.

Expectations come from api.md's "who" column. Routes api.md does not list take the rule the view documents
(its docstring or schema description); they are marked ``# not in api.md``. A refusal is 401/403 with code
``forbidden``, or 404 ``not_found`` where the code deliberately hides that something exists (each such cell
says so). Where the service lets in more than api.md's "who" column names, on purpose (api.md "may only grow,
compatibly"), the cell is in ``GROWN`` with the reason: finance reads any receipt (it works refunds and
reconciliation exceptions from them), and admin reads what support needs (accounts, their history, online
top-ups, receipts). api.md's refusals for every other actor stand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

# --- actors ---------------------------------------------------------------------------------------------
ANONYMOUS = "anonymous"  # no Authorization header
OWNER = "owner"  # the customer who holds the wallet (and its payment, receipt, online top-up)
OTHER = "other_customer"  # another customer, with a wallet of their own
AGENT = "agent"  # supervisor cashier of office A: opened the open session, took the cash top-up
COLLEAGUE = "colleague"  # a plain cashier of office A, no session open
AGENT_ELSEWHERE = "agent_elsewhere"  # supervisor cashier of office B, no session open
FINANCE, SERVICE, ADMIN = "finance", "service", "admin"
NO_ROLE = "no_role"  # a logged-in user (token) with no role at all
ACTORS = [ANONYMOUS, OWNER, OTHER, AGENT, COLLEAGUE, AGENT_ELSEWHERE, FINANCE, SERVICE, ADMIN, NO_ROLE]
AGENTS = {AGENT, COLLEAGUE, AGENT_ELSEWHERE}


class Outcome(NamedTuple):
    status: int
    code: str | None = None  # the problem+json code of a refusal; None for a success

    def __str__(self) -> str:
        return f"{self.status} {self.code}" if self.code else str(self.status)


UNAUTHENTICATED = Outcome(401, "forbidden")
FORBIDDEN = Outcome(403, "forbidden")
HIDDEN = Outcome(404, "not_found")  # the code answers "does not exist" rather than "not yours"


def expect(allowed: Iterable[str], *, success: int = 200, **cells: Outcome) -> dict[str, Outcome]:
    """``allowed`` get ``success``; anonymous 401; everyone else 403 ``forbidden`` unless ``cells`` says."""
    allowed = set(allowed)
    table = {actor: Outcome(success) if actor in allowed else FORBIDDEN for actor in ACTORS}
    table[ANONYMOUS] = UNAUTHENTICATED
    unknown = set(cells) - set(ACTORS)
    assert not unknown, unknown
    table.update(cells)
    return table


# --- rows -----------------------------------------------------------------------------------------------
World = dict[str, Any]


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    path: str  # formatted with the world's values: {wallet}, {payment}, {office}, ... (see PLACEHOLDERS)
    expected: dict[str, Outcome]
    body: Callable[[World], dict] | None = None
    #: Puts the world in the state the call needs (inside the test's own transaction), e.g. a frozen wallet.
    prepare: Callable[[World], None] | None = None
    #: Self-registration: the "other customer" is a customer with no wallet yet (one holder, one wallet).
    other_is_newcomer: bool = False
    signed_partner_only: bool = False  # the partner callback: no token at all, a signature
    content_type: str = "application/json"  # of a success


#: Example values for every placeholder, to resolve the rows' paths without a database (the guard test).
PLACEHOLDERS = {
    "wallet": "0000000000",
    "unclaimed": "0000000001",
    "payment": "00000000-0000-0000-0000-000000000001",
    "office": "OFA",
    "onboarding": "OFC",
    "session": "00000000-0000-0000-0000-000000000002",
    "cash_topup": "00000000-0000-0000-0000-000000000003",
    "receipt": "R0",
    "online": "00000000-0000-0000-0000-000000000004",
    "today": "2025-01-01",
}
PDF = "application/pdf"


def _reason(world: World) -> dict:
    return {"reason": "Role matrix"}


def _freeze_wallet(world: World) -> None:
    from ledger import wallets

    wallets.freeze_wallet(wallet=world["wallet_obj"], actor=world["users"][FINANCE], reason="Role matrix")


def _suspend_office(world: World) -> None:
    from agents import services

    services.suspend_office(office=world["office_obj"], actor=None, reason="Role matrix")


ROWS: list[Row] = [
    # ---- accounts ----------------------------------------------------------------------------------------
    Row(
        "open account",
        "post",
        "/api/v1/accounts/",
        # api.md: agent, admin, customer (self-registration). The owner already holds a wallet: 409.
        expect(AGENTS | {OTHER, ADMIN}, success=201, owner=Outcome(409, "already_exists")),
        body=lambda w: {"holder_type": "company", "national_id": "987654321", "name": "Sohar Co", "phone": "92345678"},
        other_is_newcomer=True,
    ),
    Row(
        "read account",
        "get",
        "/api/v1/accounts/{wallet}/",
        # api.md: owner, agent, finance. Another customer: 404, the code hides the wallet (ledger.api.wallet_for).
        expect({OWNER, FINANCE} | AGENTS, other_customer=HIDDEN),
    ),
    Row(
        "account transactions",
        "get",
        "/api/v1/accounts/{wallet}/transactions/",
        # api.md: owner, finance. Another customer: 404 (wallet_for hides it).
        expect({OWNER, FINANCE}, other_customer=HIDDEN),
    ),
    # not in api.md (freeze .. statement): finance and admin change a wallet's status.
    Row("freeze account", "post", "/api/v1/accounts/{wallet}/freeze/", expect({FINANCE, ADMIN}), body=_reason),
    Row(
        "unfreeze account",
        "post",
        "/api/v1/accounts/{wallet}/unfreeze/",
        expect({FINANCE, ADMIN}),
        body=_reason,
        prepare=_freeze_wallet,
    ),
    Row("close account", "post", "/api/v1/accounts/{wallet}/close/", expect({FINANCE, ADMIN}), body=_reason),
    Row(
        "portal activation",
        "post",
        # a wallet opened at an office whose holder has no portal login yet
        "/api/v1/accounts/{unclaimed}/portal-activation/",
        expect(AGENTS | {ADMIN}, success=201),
    ),
    Row(
        "account statement",
        "get",
        "/api/v1/accounts/{wallet}/statement/?from={today}&to={today}",
        # reports.api.AccountStatement: owner, finance, admin; another customer 404 (hidden), others 403.
        expect({OWNER, FINANCE, ADMIN}, other_customer=HIDDEN),
        content_type=PDF,
    ),
    # ---- services, payments, refunds ---------------------------------------------------------------------
    Row("list services", "get", "/api/v1/services/", expect(set(ACTORS))),  # anyone authenticated
    Row(
        "pay a fee",
        "post",
        "/api/v1/payments/",
        # api.md: service, customer (own account). Another customer paying from it: 404 (wallet_for hides it).
        expect({OWNER, SERVICE}, success=201, other_customer=HIDDEN),
        body=lambda w: {"account": w["wallet"], "service": "lease_renewal", "bill_reference": "L-9", "amount": "1.000"},
    ),
    Row(
        "read a payment",
        "get",
        "/api/v1/payments/{payment}/",
        # not in api.md; ledger.api.PaymentDetail: the owner, service, finance, agents, admin; another customer 404.
        expect({OWNER, SERVICE, FINANCE, ADMIN} | AGENTS, other_customer=HIDDEN),
    ),
    Row(
        "refund a payment",
        "post",
        "/api/v1/payments/{payment}/refunds/",
        expect({FINANCE}, success=201),  # api.md: finance
        body=lambda w: {"amount": "1.000", "reason": "Duplicate"},
    ),
    # ---- offices -----------------------------------------------------------------------------------------
    Row(
        "register office",
        "post",
        "/api/v1/offices/",
        expect({ADMIN}, success=201),  # api.md: admin
        body=lambda w: {"code": "NEW-01", "name_en": "New office", "name_ar": "مكتب جديد", "kind": "internal"},
    ),
    Row(
        "read office",
        "get",
        "/api/v1/offices/{office}/",
        # not in api.md; agents.api.OfficeDetail: the office's own cashiers, finance, admin ("an agent sees only
        # its own office": another office's agent 403).
        expect({AGENT, COLLEAGUE, FINANCE, ADMIN}),
    ),
    Row(
        "activate office",
        "post",
        "/api/v1/offices/{onboarding}/activate/",
        expect({ADMIN}),  # not in api.md; admin, as suspend/reinstate
        body=_reason,
    ),
    Row("suspend office", "post", "/api/v1/offices/{office}/suspend/", expect({ADMIN}), body=_reason),  # api.md
    Row(
        "reinstate office",
        "post",
        "/api/v1/offices/{office}/reinstate/",
        expect({ADMIN}),  # api.md: admin
        body=_reason,
        prepare=_suspend_office,
    ),
    Row(
        "terminate office",
        "post",
        "/api/v1/offices/{onboarding}/terminate/",
        expect({ADMIN}),  # not in api.md; admin
        body=_reason,
    ),
    # not in api.md (day report, its PDF, statement): the office's supervisor, finance and admin; a plain
    # cashier of the office and another office's supervisor 403 (agents.api / reports.office_api docstrings).
    Row("office day report", "get", "/api/v1/offices/{office}/day-report/", expect({AGENT, FINANCE, ADMIN})),
    Row(
        "office day report pdf",
        "get",
        "/api/v1/offices/{office}/day-report.pdf",
        expect({AGENT, FINANCE, ADMIN}),
        content_type=PDF,
    ),
    Row(
        "office statement",
        "get",
        "/api/v1/offices/{office}/statement/?from={today}&to={today}",
        expect({AGENT, FINANCE, ADMIN}),
    ),
    # ---- cashier sessions and cash -----------------------------------------------------------------------
    Row(
        "open cashier session",
        "post",
        "/api/v1/cashier-sessions/",
        # api.md: agent. The agent already has a session open: the business answer, past the role check.
        expect(AGENTS, success=201, agent=Outcome(422, "session_already_open")),
        body=lambda w: {"opening_cash": "10.000"},
    ),
    Row(
        "close cashier session",
        "post",
        "/api/v1/cashier-sessions/{session}/close/",
        # api.md: the agent who opened it. Any other agent: 404, the code hides other cashiers' sessions
        # ("No such session of yours", agents.api.SessionClose).
        expect({AGENT}, colleague=HIDDEN, agent_elsewhere=HIDDEN),
        body=lambda w: {"counted_cash": w["counted_cash"]},
    ),
    Row(
        "cash top-up",
        "post",
        "/api/v1/topups/cash/",
        # api.md: an agent with an open cashier session, else 422 session_closed.
        expect(
            {AGENT},
            success=201,
            colleague=Outcome(422, "session_closed"),
            agent_elsewhere=Outcome(422, "session_closed"),
        ),
        body=lambda w: {"account": w["wallet"], "amount": "5.000"},
    ),
    Row(
        "void cash top-up",
        "post",
        "/api/v1/topups/cash/{cash_topup}/void/",
        # not in api.md; the cashier who took it, within the session (agents.services.void_cash_topup): a colleague
        # at the same office 403; another office's agent 404, the code hides it ("No such top-up at your office").
        expect({AGENT}, agent_elsewhere=HIDDEN),
        body=_reason,
    ),
    # ---- receipts ----------------------------------------------------------------------------------------
    # api.md: any office, the owner. Anyone else: 404, the code hides the receipt ("numbers are not
    # confirmed", reports.api.ReceiptDetail).
    *(
        Row(
            f"receipt {fmt}",
            "get",
            "/api/v1/receipts/{receipt}/" + ("?format=pdf" if fmt == "pdf" else ""),
            expect(
                AGENTS | {OWNER}, other_customer=HIDDEN, service=HIDDEN, no_role=HIDDEN, finance=HIDDEN, admin=HIDDEN
            ),
            content_type=PDF if fmt == "pdf" else "application/json",
        )
        for fmt in ("json", "pdf")
    ),
    # ---- online top-ups and partner callbacks ------------------------------------------------------------
    Row(
        "start online top-up",
        "post",
        "/api/v1/topups/online/",
        # api.md: customer (own account), service. Another customer: 404 (wallet_for hides it).
        expect({OWNER, SERVICE}, success=201, other_customer=HIDDEN),
        body=lambda w: {"account": w["wallet"], "amount": "5.000", "channel": "card"},
    ),
    Row(
        "read online top-up",
        "get",
        "/api/v1/topups/online/{online}/",
        # api.md: the owner, finance. Another customer: 404 (wallet_for hides it).
        expect({OWNER, FINANCE}, other_customer=HIDDEN),
    ),
    Row(
        "partner callback",
        "post",
        "/api/v1/callbacks/bank/",
        # api.md: the bank or the gateway, no token, signed. A token of any role is irrelevant: an unsigned
        # callback (for a real initiated top-up, well formed) is 401 invalid_signature whoever sends it.
        {actor: Outcome(401, "invalid_signature") for actor in ACTORS},
        body=lambda w: {
            "reference": w["online_reference"],
            "status": "authorised",
            "amount": "7.000",
            "currency": "OMR",
            "partner_txn_id": "BANK-TXN-1",
            "nonce": "matrix-nonce-1",
        },
        signed_partner_only=True,
    ),
    # ---- finance reports (not in api.md) -----------------------------------------------------------------
    # reports.reconciliation_api: "finance only"; reports.finance_api: "finance and admin only".
    Row("reconciliation report", "get", "/api/v1/reports/reconciliation/?day={today}&source=bank", expect({FINANCE})),
    Row("trial balance", "get", "/api/v1/reports/trial-balance/", expect({FINANCE, ADMIN})),
    Row("revenue report", "get", "/api/v1/reports/revenue/?from={today}&to={today}", expect({FINANCE, ADMIN})),
    # ---- the schema: api.md says it is served at /api/v1/schema/, with no restriction ----------------------
    Row(
        "openapi schema",
        "get",
        "/api/v1/schema/",
        expect(set(ACTORS), anonymous=Outcome(200)),
        content_type="application/vnd.oai.openapi",
    ),
]


class Grown(NamedTuple):
    outcome: Outcome  # what the service answers, beyond api.md's "who"
    why: str


_SUPPORT = "admin reads what support needs (api.md lists the minimum; it may grow)"
_FINANCE_RECEIPTS = "finance reads any receipt: it works refunds and reconciliation exceptions from them"

#: (row id, actor) -> a role let in beyond api.md's "who" column, on purpose.
GROWN: dict[tuple[str, str], Grown] = {
    ("read account", ADMIN): Grown(Outcome(200), _SUPPORT),
    ("account transactions", ADMIN): Grown(Outcome(200), _SUPPORT),
    ("read online top-up", ADMIN): Grown(Outcome(200), _SUPPORT),
    ("receipt json", FINANCE): Grown(Outcome(200), _FINANCE_RECEIPTS),
    ("receipt json", ADMIN): Grown(Outcome(200), _SUPPORT),
    ("receipt pdf", FINANCE): Grown(Outcome(200), _FINANCE_RECEIPTS),
    ("receipt pdf", ADMIN): Grown(Outcome(200), _SUPPORT),
}
