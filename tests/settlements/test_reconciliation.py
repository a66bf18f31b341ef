"""Matching, settlement and exceptions for one business day, from statement lines already imported."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from erial.errors import Forbidden, InvalidRequest
from erial.roles import Role
from ledger.businessday import today
from ledger.selectors import balance
from ledger.verification import verify
from settlements import services
from settlements.models import (
    ExceptionKind,
    ExceptionStatus,
    GatewayBatch,
    LineStatus,
    ReconException,
    Statement,
    StatementFile,
    StatementLine,
)
from settlements.reconciliation import reconcile_day
from tests.agents.conftest import make_office
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, system
from topups import services as topups
from topups.models import OnlineTopup

pytestmark = pytest.mark.django_db


def paid_online(channel: str, amount: str) -> OnlineTopup:
    """An online top-up the partner authorised (credited through the real callback handler's credit step)."""
    wallet = open_wallet(user=make_user(Role.CUSTOMER))
    topup = topups.initiate(wallet=wallet, amount=D(amount), channel=channel, actor=wallet.holder.user)
    with_lock = OnlineTopup.objects.select_related("wallet__account").get(pk=topup.pk)
    topups._credit(with_lock, f"PTX-{uuid.uuid4().hex[:6]}")
    return with_lock


def statement(source: str, day: dt.date, lines: list[dict], batches: list[dict] = ()) -> Statement:
    record = StatementFile.objects.create(
        source=source,
        file_format="camt053" if source == "bank" else "gateway_csv",
        file_name="test",
        sha256=uuid.uuid4().hex * 2,
    )
    st = Statement.objects.create(
        file=record,
        source=source,
        account="OM-TEST",
        statement_id=uuid.uuid4().hex[:8],
        currency="OMR",
        opening_balance=D("0"),
        opening_date=day,
    )
    for i, line in enumerate(lines, 1):
        StatementLine.objects.create(
            statement=st,
            source=source,
            position=f"line {i}",
            booking_date=day,
            **{"amount": D(line.pop("amount")), **line},
        )
    for batch in batches:
        GatewayBatch.objects.create(statement=st, batch_date=day, **batch)
    return st


def test_bank_top_ups_match_on_reference_and_settle_to_the_bank():
    day = today()
    first, second = paid_online("bank", "10.000"), paid_online("bank", "5.500")
    statement(
        "bank",
        day,
        [{"amount": "10.000", "reference": first.reference}, {"amount": "5.500", "reference": second.reference}],
    )
    run = reconcile_day(day=day, source="bank")
    assert (run.status, run.matched, run.settled_amount, run.open_exceptions) == ("completed", 2, D("15.500"), 0)
    assert balance(system("bank_clearing")) == D("0.000")
    assert balance(system("bank")) == D("15.500")
    assert verify().ok
    again = reconcile_day(day=day, source="bank")  # re-running changes nothing already settled
    assert (again.attempts, again.settled_amount, balance(system("bank"))) == (2, D("15.500"), D("15.500"))


def test_float_deposits_match_without_a_second_posting():
    day = today()
    office = make_office("external", float_="300.000")
    statement("bank", day, [{"amount": "300.000", "reference": f"DEP-{office.code}"}])
    run = reconcile_day(day=day, source="bank")
    assert (run.matched, run.settled_amount, run.open_exceptions) == (1, D("0.000"), 0)
    assert balance(system("bank")) == D("300.000")


def test_amount_and_date_match_only_when_exactly_one_entry_fits():
    day = today()
    only = paid_online("bank", "7.250")
    twin_a, twin_b = paid_online("bank", "4.000"), paid_online("bank", "4.000")
    statement(
        "bank", day, [{"amount": "7.250", "description": "TRANSFER"}, {"amount": "4.000", "description": "TRANSFER"}]
    )
    run = reconcile_day(day=day, source="bank")
    assert StatementLine.objects.get(amount=D("7.250")).matched_entry == only.entry
    ambiguous = ReconException.objects.get(kind=ExceptionKind.AMBIGUOUS_LINE)
    assert set(ambiguous.suggestions) == {str(twin_a.entry_id), str(twin_b.entry_id)}
    assert run.open_exceptions >= 1
    assert StatementLine.objects.get(amount=D("4.000")).matched_entry is None  # never auto-confirmed


def test_unknown_credit_wrong_amount_and_missing_entry_become_exceptions():
    day = today()
    wrong = paid_online("bank", "9.000")
    missing = paid_online("bank", "3.000")
    statement(
        "bank",
        day,
        [
            {"amount": "9.500", "reference": wrong.reference},
            {"amount": "42.000", "reference": "NOBODY", "description": "Cash deposit"},
        ],
    )
    reconcile_day(day=day, source="bank")
    found = sorted(ReconException.objects.values_list("kind", "amount"))
    assert found == sorted(
        [
            (ExceptionKind.AMOUNT_MISMATCH, D("9.500")),  # the line: its reference is ours, its amount is not
            (ExceptionKind.UNMATCHED_LINE, D("42.000")),  # the line: nothing in the ledger
            (ExceptionKind.MISSING_FROM_STATEMENT, D("9.000")),  # the entries no line accounts for
            (ExceptionKind.MISSING_FROM_STATEMENT, D("3.000")),
        ]
    )
    missing_entries = ReconException.objects.filter(kind=ExceptionKind.MISSING_FROM_STATEMENT)
    assert set(missing_entries.values_list("entry_id", flat=True)) == {wrong.entry_id, missing.entry_id}
    reconcile_day(day=day, source="bank")
    assert ReconException.objects.count() == 4  # a re-run finds the same exceptions, not new ones


def test_gateway_transactions_batch_and_bank_credit_settle_with_fees():
    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-1"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": b.reference, "batch_id": "B-1"},
        ],
        batches=[{"batch_id": "B-1", "gross": D("30.000"), "fee": D("0.600"), "net": D("29.400")}],
    )
    statement("bank", day, [{"amount": "29.400", "reference": "B-1", "description": "GATEWAY PAYOUT"}])
    gateway = reconcile_day(day=day, source="gateway")
    bank = reconcile_day(day=day, source="bank")
    assert (gateway.matched, gateway.settled_amount, gateway.open_exceptions) == (2, D("29.400"), 0)
    assert bank.open_exceptions == 0
    assert balance(system("gateway_clearing")) == D("0.000")
    assert balance(system("gateway_fee_expense")) == D("0.600")
    assert balance(system("bank")) == D("29.400")
    assert GatewayBatch.objects.get(batch_id="B-1").bank_line.status == LineStatus.MATCHED
    assert verify().ok


def test_a_batch_paid_short_is_a_batch_mismatch():
    day = today()
    a = paid_online("card", "20.000")
    statement(
        "gateway",
        day,
        [{"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-2"}],
        batches=[{"batch_id": "B-2", "gross": D("20.000"), "fee": D("0.400"), "net": D("19.600")}],
    )
    statement("bank", day, [{"amount": "19.000", "reference": "B-2"}])
    reconcile_day(day=day, source="gateway")
    assert ReconException.objects.filter(kind=ExceptionKind.BATCH_MISMATCH).count() == 1
    assert balance(system("gateway_clearing")) == D("20.000")


class TestMakerChecker:
    def _unmatched_credit(self):
        day = today()
        statement("bank", day, [{"amount": "42.000", "reference": "NOBODY"}])
        reconcile_day(day=day, source="bank")
        return ReconException.objects.get(kind=ExceptionKind.UNMATCHED_LINE)

    def test_write_off_to_suspense_needs_a_second_person(self):
        exception = self._unmatched_credit()
        maker, checker = make_user(Role.FINANCE), make_user(Role.FINANCE)
        proposal = services.propose(exception=exception, action="write_off", actor=maker, note="Unknown depositor")
        with pytest.raises(Forbidden, match="Maker-checker"):
            services.approve(resolution=proposal, actor=maker)
        assert balance(system("suspense")) == D("0.000")
        services.approve(resolution=proposal, actor=checker)
        assert balance(system("suspense")) == D("42.000") and balance(system("bank")) == D("42.000")
        exception.refresh_from_db()
        assert exception.status == ExceptionStatus.RESOLVED
        assert verify().ok

    def test_writing_off_an_unknown_gateway_line_takes_its_gross_out_of_clearing(self):
        """The batch settles the line's gross out of clearing (net to the bank, fee to expense), so the write-off
        must put the gross in: clearing ends at zero, suspense holds what the payer paid."""
        day = today()
        line = {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": "NOT-OURS", "batch_id": "B-7"}
        statement(
            "gateway",
            day,
            [line],
            batches=[{"batch_id": "B-7", "gross": D("10.000"), "fee": D("0.200"), "net": D("9.800")}],
        )
        statement("bank", day, [{"amount": "9.800", "reference": "B-7", "description": "GATEWAY PAYOUT"}])
        reconcile_day(day=day, source="gateway")
        reconcile_day(day=day, source="bank")
        exception = ReconException.objects.get(kind=ExceptionKind.UNMATCHED_LINE, line__source="gateway")
        maker, checker = make_user(Role.FINANCE), make_user(Role.FINANCE)
        proposal = services.propose(exception=exception, action="write_off", actor=maker, note="Unknown card payer")
        services.approve(resolution=proposal, actor=checker)
        assert balance(system("gateway_clearing")) == D("10.000")  # the payer's gross, until the batch settles
        reconcile_day(day=day, source="gateway")  # every line of B-7 accounted for now: it settles
        assert balance(system("gateway_clearing")) == D("0.000")
        assert balance(system("suspense")) == D("10.000")
        assert balance(system("bank")) == D("9.800") and balance(system("gateway_fee_expense")) == D("0.200")
        assert verify().ok

    def test_manual_match_confirms_one_of_several_candidates_and_settles_it(self):
        day = today()
        topup, twin = paid_online("bank", "6.000"), paid_online("bank", "6.000")
        statement("bank", day, [{"amount": "6.000", "reference": "TYPO-REF"}])
        reconcile_day(day=day, source="bank")
        exception = ReconException.objects.get(kind=ExceptionKind.AMBIGUOUS_LINE)
        assert set(exception.suggestions) == {str(topup.entry_id), str(twin.entry_id)}
        maker, checker = make_user(Role.FINANCE), make_user(Role.FINANCE)
        proposal = services.propose(
            exception=exception, action="match", entry=topup.entry, actor=maker, note="Customer confirmed by phone"
        )
        services.approve(resolution=proposal, actor=checker)
        assert balance(system("bank_clearing")) == D("6.000")  # the twin is still waiting for its bank line
        assert balance(system("bank")) == D("6.000")
        reconcile_day(day=day, source="bank")
        still_missing = ReconException.objects.filter(
            status=ExceptionStatus.OPEN, kind=ExceptionKind.MISSING_FROM_STATEMENT
        ).values_list("entry_id", flat=True)
        assert list(still_missing) == [twin.entry_id]

    def test_refusals(self):
        exception = self._unmatched_credit()
        maker, checker, clerk = make_user(Role.FINANCE), make_user(Role.FINANCE), make_user(Role.AGENT)
        with pytest.raises(Forbidden):
            services.propose(exception=exception, action="write_off", actor=clerk, note="x")
        with pytest.raises(InvalidRequest):
            services.propose(exception=exception, action="write_off", actor=maker, note=" ")
        with pytest.raises(InvalidRequest):
            services.propose(exception=exception, action="adjust", account_code="nope", actor=maker, note="x")
        proposal = services.propose(exception=exception, action="write_off", actor=maker, note="x")
        services.reject(resolution=proposal, actor=checker, note="Find the depositor first")
        exception.refresh_from_db()
        assert exception.status == ExceptionStatus.OPEN and balance(system("suspense")) == Decimal("0.000")


def test_a_day_with_no_statement_flags_what_the_ledger_has():
    day = today()
    paid_online("card", "8.000")
    run = reconcile_day(day=day, source="gateway")
    assert run.open_exceptions == 1
    assert ReconException.objects.get().kind == ExceptionKind.MISSING_FROM_STATEMENT
