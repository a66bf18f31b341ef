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


def test_a_payout_credit_reconciled_before_its_batch_report_arrives_still_pays_the_batch():
    """The bank statement may be reconciled before the gateway's report: the credit is an exception until the
    batch explains it; then the batch settles against it and the stale exception closes itself."""
    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    statement("bank", day, [{"amount": "29.400", "reference": "PAYOUT-1", "description": "GATEWAY PAYOUT"}])
    assert reconcile_day(day=day, source="bank").open_exceptions == 1
    stale = ReconException.objects.get(kind=ExceptionKind.UNMATCHED_LINE)
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-1"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": b.reference, "batch_id": "B-1"},
        ],
        batches=[
            {
                "batch_id": "B-1",
                "payout_reference": "PAYOUT-1",
                "gross": D("30.000"),
                "fee": D("0.600"),
                "net": D("29.400"),
            }
        ],
    )
    gateway = reconcile_day(day=day, source="gateway")
    batch = GatewayBatch.objects.get(batch_id="B-1")
    assert (gateway.settled_amount, gateway.open_exceptions) == (D("29.400"), 0)
    assert batch.bank_line == stale.line and batch.bank_line.status == LineStatus.MATCHED
    assert batch.bank_line.settled_entry_id == batch.settlement_entry_id is not None
    stale.refresh_from_db()
    assert stale.status == ExceptionStatus.RESOLVED and stale.resolved_at is not None
    assert "gateway batch B-1" in stale.detail
    assert reconcile_day(day=day, source="bank").open_exceptions == 0
    assert balance(system("gateway_clearing")) == D("0.000")
    assert (balance(system("bank")), balance(system("gateway_fee_expense"))) == (D("29.400"), D("0.600"))
    assert verify().ok


def test_two_lines_competing_for_the_one_entry_that_fits_are_both_left_to_a_person():
    day = today()
    only = paid_online("bank", "4.000")
    statement(
        "bank", day, [{"amount": "4.000", "description": "TRANSFER"}, {"amount": "4.000", "description": "TRANSFER"}]
    )
    run = reconcile_day(day=day, source="bank")
    assert run.matched == 0
    assert not StatementLine.objects.filter(status=LineStatus.MATCHED).exists()  # neither is auto-confirmed
    ambiguous = ReconException.objects.filter(kind=ExceptionKind.AMBIGUOUS_LINE)
    assert sorted(ambiguous.values_list("line__position", flat=True)) == ["line 1", "line 2"]
    assert [exception.suggestions for exception in ambiguous] == [[str(only.entry_id)]] * 2
    assert (balance(system("bank_clearing")), balance(system("bank"))) == (D("4.000"), D("0.000"))
    reconcile_day(day=day, source="bank")
    assert ReconException.objects.filter(kind=ExceptionKind.AMBIGUOUS_LINE).count() == 2  # found again, not twice
    assert verify().ok


GATEWAY_HEADER = "record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency"


def test_a_batch_with_a_payment_and_its_refund_settles_and_the_refund_is_left_to_finance(tmp_path):
    """A REFUND shares the reference of the card payment it gives back. The payment still matches its top-up,
    the batch settles at its reported net (gross - fees - refunds), and the refund, which the ledger does not
    hold, is an exception naming the top-up: the wallet still holds what the card got back."""
    from settlements.importing import import_file
    from tests.settlements.statements import camt053

    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    report = tmp_path / "gateway.csv"
    report.write_text(
        "\n".join(
            [
                GATEWAY_HEADER,
                f"TXN,B-R,{a.reference},gw_1,{day},20.000,0.400,19.600,OMR",
                f"TXN,B-R,{b.reference},gw_2,{day},10.000,0.200,9.800,OMR",
                f"REFUND,B-R,{a.reference},gw_3,{day},-5.000,0.000,-5.000,OMR",
                f"BATCH,B-R,PAYOUT-R,,{day},25.000,0.600,24.400,OMR",
            ]
        )
        + "\n"
    )
    import_file(report)
    import_file(camt053(tmp_path / "bank.xml", day, [("PAYOUT-R", D("24.400"))], sequence=1))
    gateway = reconcile_day(day=day, source="gateway")
    bank = reconcile_day(day=day, source="bank")
    batch = GatewayBatch.objects.get(batch_id="B-R")
    assert (gateway.matched, gateway.settled_amount) == (2, D("24.400"))
    assert batch.bank_line.reference == "PAYOUT-R" and batch.bank_line.status == LineStatus.MATCHED
    payments = StatementLine.objects.filter(source="gateway", is_reversal=False)
    assert {(line.status, line.settled_entry_id) for line in payments} == {
        (LineStatus.MATCHED, batch.settlement_entry_id)
    }
    refund = StatementLine.objects.get(source="gateway", is_reversal=True)
    assert refund.status == LineStatus.EXCEPTION
    found = ReconException.objects.filter(status=ExceptionStatus.OPEN)
    assert [(e.kind, e.line_id, e.suggestions) for e in found] == [
        (ExceptionKind.UNMATCHED_LINE, refund.pk, [str(a.entry_id)])
    ]
    assert (gateway.open_exceptions, bank.open_exceptions) == (1, 0)
    assert (balance(system("bank")), balance(system("gateway_fee_expense"))) == (D("24.400"), D("0.600"))
    assert balance(system("gateway_clearing")) == D("5.000")  # what the card got back, until finance decides
    assert verify().ok
    # Finance takes the refund back from the wallet the top-up credited: clearing is then square.
    maker, checker = make_user(Role.FINANCE), make_user(Role.FINANCE)
    proposal = services.propose(
        exception=found.get(),
        action="adjust",
        account_code=a.wallet.account.code,
        actor=maker,
        note="Refunded to the card by the gateway",
    )
    services.approve(resolution=proposal, actor=checker)
    assert balance(system("gateway_clearing")) == D("0.000")
    assert balance(a.wallet.account) == D("15.000")
    assert verify().ok


def test_a_payout_credit_of_a_batch_that_waits_is_an_exception_until_the_batch_settles():
    """A bank credit is never left unmatched without an exception, even when it pays a batch that waits for
    its transactions: once they are accounted for, the batch settles against it and the exception closes."""
    day = today()
    a = paid_online("card", "20.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-8"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": "NOT-OURS", "batch_id": "B-8"},
        ],
        batches=[{"batch_id": "B-8", "gross": D("30.000"), "fee": D("0.600"), "net": D("29.400")}],
    )
    statement("bank", day, [{"amount": "29.400", "reference": "B-8", "description": "GATEWAY PAYOUT"}])
    reconcile_day(day=day, source="gateway")
    reconcile_day(day=day, source="bank")
    credit = StatementLine.objects.get(source="bank")
    waiting = ReconException.objects.get(line=credit)
    assert (credit.status, waiting.kind, waiting.status) == (
        LineStatus.EXCEPTION,
        ExceptionKind.UNMATCHED_LINE,
        ExceptionStatus.OPEN,
    )
    assert "B-8" in waiting.detail
    unknown = ReconException.objects.get(line__reference="NOT-OURS")
    maker, checker = make_user(Role.FINANCE), make_user(Role.FINANCE)
    services.approve(
        resolution=services.propose(exception=unknown, action="write_off", actor=maker, note="Unknown payer"),
        actor=checker,
    )
    reconcile_day(day=day, source="gateway")
    credit.refresh_from_db()
    waiting.refresh_from_db()
    assert credit.status == LineStatus.MATCHED
    assert credit.matched_entry_id == GatewayBatch.objects.get(batch_id="B-8").settlement_entry_id
    assert waiting.status == ExceptionStatus.RESOLVED
    assert balance(system("gateway_clearing")) == D("0.000")
    assert verify().ok


def test_a_second_credit_for_a_batch_already_paid_is_an_exception():
    day = today()
    a = paid_online("card", "20.000")
    statement(
        "gateway",
        day,
        [{"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-3"}],
        batches=[{"batch_id": "B-3", "gross": D("20.000"), "fee": D("0.400"), "net": D("19.600")}],
    )
    statement("bank", day, [{"amount": "19.600", "reference": "B-3"}, {"amount": "19.600", "reference": "B-3"}])
    reconcile_day(day=day, source="gateway")
    bank = reconcile_day(day=day, source="bank")
    paid, again = StatementLine.objects.filter(source="bank").order_by("id")
    assert paid == GatewayBatch.objects.get(batch_id="B-3").bank_line and paid.status == LineStatus.MATCHED
    assert (again.status, bank.open_exceptions) == (LineStatus.EXCEPTION, 1)
    assert ReconException.objects.get(line=again).kind == ExceptionKind.UNMATCHED_LINE


# --- an agent replenishes its float at the bank --------------------------------------------------------


class TestFloatReplenishedAtTheBank:
    """design.md §4: bank -> agent float, recognised by reconciliation from the float's reference."""

    def test_a_deposit_with_the_floats_reference_credits_the_float_once(self):
        day, office = today(), make_office("external")
        reference = office.cash_account.code.lower()  # banks keep what the depositor wrote, in any case
        statement("bank", day, [{"amount": "150.000", "reference": reference, "description": "CASH DEP AMERAT"}])
        run = reconcile_day(day=day, source="bank")
        assert balance(office.cash_account) == D("150.000") and balance(system("bank")) == D("150.000")
        line = StatementLine.objects.get(reference=reference)
        assert line.status == LineStatus.MATCHED and line.matched_entry.kind == "float_deposit"
        assert (run.matched, run.settled_amount, run.open_exceptions) == (1, D("150.000"), 0)
        reconcile_day(day=day, source="bank")  # a re-run credits nothing more
        assert balance(office.cash_account) == D("150.000")
        assert not ReconException.objects.exists()
        assert verify().ok

    def test_a_deposit_finance_recorded_first_is_matched_not_credited_twice(self):
        from agents import services as agent_services

        day, office = today(), make_office("external")
        reference = office.cash_account.code
        agent_services.record_float_deposit(
            office=office, amount=D("80.000"), actor=make_user(Role.FINANCE), idempotency_key="d-1",
            bank_reference=reference,
        )  # fmt: skip
        statement("bank", day, [{"amount": "80.000", "reference": reference}])
        reconcile_day(day=day, source="bank")
        assert balance(office.cash_account) == D("80.000")
        assert StatementLine.objects.get(reference=reference).status == LineStatus.MATCHED
        assert verify().ok

    def test_a_float_reference_naming_no_float_is_an_exception_for_finance(self, ledger_snapshot):
        day = today()
        statement("bank", day, [{"amount": "60.000", "reference": "FLOAT-NOSUCH"}])
        before_floats = ledger_snapshot()
        reconcile_day(day=day, source="bank")
        exception = ReconException.objects.get()
        assert exception.kind == ExceptionKind.UNMATCHED_LINE and exception.amount == D("60.000")
        assert balance(system("bank")) == D("0.000")
        assert ledger_snapshot() == before_floats  # nothing posted for it
