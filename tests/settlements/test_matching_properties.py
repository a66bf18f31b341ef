"""Hypothesis: matching is a property of the lines, not of how or when they arrive.

One ledger (card top-ups, bank top-ups, an agent float deposit) and one set of statement lines (gateway
batches with payments, a refund, a line the ledger lacks; their payout credits at the bank; bank lines on our
reference, on the amount only, two competing for one entry, one nobody knows), booked over two days within
the amount window. Imported as one statement per source and day, gateway first, then reconciled day by day:
the canonical result. Imported in another order, split over several statements, with reconciliation runs of
either source and day in between, then every day run once more: the same result. Same pairs, same
settlements, same open exceptions, same balances, and ``verify()`` ok both times.

Lines that compete on their amount arrive together: a line not imported yet is one no run can wait for.

Bank amounts end in 1 baisa and card amounts in 0, so a payout credit (a batch's net) never equals a bank
entry's amount: a credit that arrives before its batch is known would otherwise be matched on its amount,
which no order of runs can undo.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import services as ledger
from ledger.businessday import today
from ledger.models import Entry, EntryKind
from ledger.selectors import balance
from ledger.verification import verify
from settlements.models import ExceptionStatus, GatewayBatch, ReconciliationRun, ReconException, StatementLine
from settlements.reconciliation import reconcile_day
from tests.factories import agent_float, key, system, wallet
from tests.settlements.test_reconciliation import statement

pytestmark = pytest.mark.django_db

ACCOUNTS = ("gateway_clearing", "bank_clearing", "bank", "gateway_fee_expense", "suspense")
SOURCES = ("gateway", "bank")


def baisa(n: int) -> Decimal:
    return (Decimal(n) / 1000).quantize(Decimal("0.001"))


@st.composite
def scenarios(draw) -> dict:
    """The ledger's entries (kind, reference, amount); the bank lines (day offset, fields, group); the gateway
    batches (day offset, the batch's totals, its lines)."""
    bank_amounts = iter(draw(st.lists(st.integers(100, 9999), min_size=10, max_size=10, unique=True)))
    entries: list[tuple[str, str, Decimal]] = []  # (kind, reference, amount)
    bank_lines: list[tuple[int, dict, str]] = []  # (day, fields, group: lines of one group arrive together)
    batches: list[dict] = []

    for n in range(draw(st.integers(1, 2))):
        payments = draw(st.lists(st.tuples(st.integers(100, 5000), st.integers(0, 30)), min_size=1, max_size=3))
        lines = []
        for i, (gross, fee) in enumerate(payments):
            reference = f"OTC{n}{i}"
            entries.append(("card", reference, baisa(gross * 10)))
            lines.append({"reference": reference, "gross": baisa(gross * 10), "fee": baisa(fee * 10)})
        if draw(st.booleans()):  # part of the first payment given back to the card
            refund = baisa(draw(st.integers(1, payments[0][0] // 2)) * 10)
            lines.append({"reference": lines[0]["reference"], "gross": -refund, "fee": baisa(0), "refund": True})
        if n == 0 and draw(st.booleans()):  # a payment the ledger does not have: the batch waits
            lines.append({"reference": "OTC-UNKNOWN", "gross": baisa(2000), "fee": baisa(40)})
        gross, fee = sum(line["gross"] for line in lines), sum(line["fee"] for line in lines)
        day = draw(st.integers(0, 1))
        batch = {"batch_id": f"B-{n}", "payout_reference": f"PAY-{n}", "gross": gross, "fee": fee, "net": gross - fee}
        batches.append({"day": day, "batch": batch, "lines": lines})
        credit_reference = draw(st.sampled_from([batch["batch_id"], batch["payout_reference"]]))
        bank_lines.append(
            (max(day, draw(st.integers(0, 1))), {"reference": credit_reference, "amount": gross - fee}, "")
        )

    for i in range(draw(st.integers(0, 2))):  # bank top-ups on our reference
        amount = baisa(next(bank_amounts) * 10 + 1)
        entries.append(("bank", f"OTB{i}", amount))
        bank_lines.append((draw(st.integers(0, 1)), {"reference": f"OTB{i}", "amount": amount}, ""))
    for i in range(draw(st.integers(0, 2))):  # bank top-ups whose line lost the reference: the amount only
        amount = baisa(next(bank_amounts) * 10 + 1)
        entries.append(("bank", f"OTA{i}", amount))
        bank_lines.append((draw(st.integers(0, 1)), {"amount": amount, "description": "TRANSFER"}, ""))
    if draw(st.booleans()):  # two lines competing for one entry: never auto-confirmed
        amount = baisa(next(bank_amounts) * 10 + 1)
        entries.append(("bank", "OTTWIN", amount))
        for _ in range(2):
            bank_lines.append((draw(st.integers(0, 1)), {"amount": amount, "description": "TRANSFER"}, "twins"))
    if draw(st.booleans()):  # an agent's float deposit
        amount = baisa(next(bank_amounts) * 10 + 1)
        entries.append(("float", "DEP-OF1", amount))
        bank_lines.append((draw(st.integers(0, 1)), {"reference": "DEP-OF1", "amount": amount}, ""))
    if draw(st.booleans()):  # a credit nobody knows
        bank_lines.append(
            (draw(st.integers(0, 1)), {"reference": "NOBODY", "amount": baisa(next(bank_amounts) * 10 + 1)}, "")
        )
    if draw(st.booleans()):  # a top-up no statement shows
        entries.append(("bank", "OTMISSING", baisa(next(bank_amounts) * 10 + 1)))
    return {"entries": entries, "bank_lines": bank_lines, "batches": batches}


def gateway_line(fields: dict, batch_id: str) -> dict:
    return {
        "amount": str(fields["gross"] - fields["fee"]),
        "gross": fields["gross"],
        "fee": fields["fee"],
        "reference": fields["reference"],
        "batch_id": batch_id,
        "is_reversal": fields.get("refund", False),
        "description": "card refund" if fields.get("refund") else "card payment",
    }


def bank_line(fields: dict) -> dict:
    return {**fields, "amount": str(fields["amount"])}


def imports(scenario: dict, day0: dt.date, chunk_of: list[int] | None) -> list[list[tuple]]:
    """Import actions, each a list of statements (source, day, lines, batches). ``chunk_of`` None: one
    statement per source and day; else each batch its own report and bank lines spread over statements by
    ``chunk_of`` (lines competing on their amount arrive together)."""
    gateway: dict[int, tuple[int, list, list]] = {}
    for n, batch in enumerate(scenario["batches"]):
        lines, batches = gateway.setdefault(batch["day"] if chunk_of is None else n, (batch["day"], [], []))[1:]
        lines += [gateway_line(line, batch["batch"]["batch_id"]) for line in batch["lines"]]
        batches.append(dict(batch["batch"]))
    bank: dict[object, dict[int, list]] = {}
    for i, (day, fields, group) in enumerate(scenario["bank_lines"]):
        chunk = "all" if chunk_of is None else (group or chunk_of[i % len(chunk_of)])
        bank.setdefault(chunk, {}).setdefault(day, []).append(bank_line(fields))
    actions = [[("gateway", day0 + dt.timedelta(days=day), lines, batches)] for day, lines, batches in gateway.values()]
    for by_day in bank.values():
        actions.append([("bank", day0 + dt.timedelta(days=day), lines, []) for day, lines in sorted(by_day.items())])
    return actions


def play(actions: list, runs_between: dict[int, list[tuple[str, int]]], final: list[tuple[str, int]], day0: dt.date):
    for position, action in enumerate(actions):
        for source, offset in runs_between.get(position, []):
            reconcile_day(day=day0 + dt.timedelta(days=offset), source=source)
        for source, day, lines, batches in action:
            statement(source, day, [dict(line) for line in lines], batches=[dict(batch) for batch in batches])
    for source, offset in runs_between.get(len(actions), []) + final:
        reconcile_day(day=day0 + dt.timedelta(days=offset), source=source)


def outcome() -> dict:
    references = {str(pk): reference for pk, reference in Entry.objects.values_list("pk", "reference")}
    references[str(None)] = None
    line_fields = ("source", "reference", "amount", "booking_date", "is_reversal")
    identity = {row[0]: row[1:] for row in StatementLine.objects.values_list("pk", *line_fields)}
    lines = StatementLine.objects.values_list(*line_fields, "status", "matched_entry_id", "settled_entry_id")
    exceptions = ReconException.objects.filter(status__in=[ExceptionStatus.OPEN, ExceptionStatus.PROPOSED])
    report = verify()
    return {
        "lines": Counter((*row[:6], references[str(row[6])], references[str(row[7])]) for row in lines),
        "batches": sorted(
            (batch_id, references[str(entry_id)], identity.get(line_id))
            for batch_id, entry_id, line_id in GatewayBatch.objects.values_list(
                "batch_id", "settlement_entry_id", "bank_line_id"
            )
        ),
        "open exceptions": Counter(
            (kind, identity.get(line_id), references[str(entry_id)], batch, tuple(sorted(references[s] for s in hints)))
            for kind, line_id, entry_id, batch, hints in exceptions.values_list(
                "kind", "line_id", "entry_id", "batch__batch_id", "suggestions"
            )
        ),
        "settled": sum(ReconciliationRun.objects.values_list("settled_amount", flat=True), Decimal("0.000")),
        "balances": {code: balance(system(code)) for code in ACCOUNTS},
        "verify": (report.ok, "" if report.ok else report.lines()),
    }


def ledger_entries(scenario: dict) -> None:
    customer, agent = wallet(), agent_float()
    for kind, reference, amount in scenario["entries"]:
        debit = {"card": "gateway_clearing", "bank": "bank_clearing", "float": "bank"}[kind]
        ledger.post(
            kind=EntryKind.FLOAT_DEPOSIT if kind == "float" else EntryKind.ONLINE_TOPUP,
            legs=[ledger.Leg(system(debit), amount), ledger.Leg(agent if kind == "float" else customer, -amount)],
            idempotency_key=key(),
            scope="test",
            reference=reference,
        )


runs = st.tuples(st.sampled_from(SOURCES), st.integers(0, 1))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios(), data=st.data())
def test_any_order_or_split_of_the_same_lines_gives_the_same_result(scenario, data):
    day0 = today()
    with transaction.atomic():
        ledger_entries(scenario)
        results = []
        canonical = imports(scenario, day0, None)
        canonical_runs = [(source, offset) for source in SOURCES for offset in (0, 1)]
        chunk_of = data.draw(st.lists(st.integers(0, 2), min_size=1, max_size=6), label="bank statement of line")
        shuffled = data.draw(st.permutations(imports(scenario, day0, chunk_of)), label="import order")
        between = data.draw(
            st.dictionaries(st.integers(0, len(shuffled)), st.lists(runs, max_size=2), max_size=3),
            label="runs between imports",
        )
        final = data.draw(st.permutations(canonical_runs), label="final runs")
        for actions, runs_between, last in ((canonical, {}, canonical_runs), (shuffled, between, final)):
            with transaction.atomic():
                play(actions, runs_between, last, day0)
                results.append(outcome())
                transaction.set_rollback(True)
        transaction.set_rollback(True)
    assert results[0]["verify"] == (True, "")
    assert results[1] == results[0]
