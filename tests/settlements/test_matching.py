"""Set-based matching: pairs found as a set, each line written once with its match and its settlement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from ledger.businessday import today
from ledger.chart import SystemAccount
from ledger.models import Entry, EntryKind
from ledger.payments import system_account_id
from ledger.selectors import balance
from ledger.verification import verify
from settlements import matching
from settlements.importing import import_file
from settlements.models import ExceptionKind, GatewayBatch, LineStatus, ReconException, Source, StatementLine
from settlements.reconciliation import reconcile_day
from tests.factories import D, system
from tests.settlements.statements import gateway_csv
from tests.settlements.test_reconciliation import paid_online, statement

pytestmark = pytest.mark.django_db


def test_bank_lines_matched_on_reference_are_written_settled_by_the_days_entry():
    day = today()
    first, second = paid_online("bank", "10.000"), paid_online("bank", "5.500")
    statement(
        "bank",
        day,
        [{"amount": "10.000", "reference": first.reference}, {"amount": "5.500", "reference": second.reference}],
    )
    reconcile_day(day=day, source="bank")
    settlement = Entry.objects.get(kind=EntryKind.SETTLEMENT)
    lines = StatementLine.objects.order_by("id")
    assert [(line.status, line.matched_entry_id, line.settled_entry_id) for line in lines] == [
        (LineStatus.MATCHED, first.entry_id, settlement.pk),
        (LineStatus.MATCHED, second.entry_id, settlement.pk),
    ]


def test_an_entry_paired_on_its_reference_is_not_offered_to_a_line_on_its_amount():
    """The reference pairs wait unwritten while amounts are matched: the waiting entry is taken all the same."""
    day = today()
    topup = paid_online("bank", "5.000")
    statement(
        "bank",
        day,
        [{"amount": "5.000", "reference": topup.reference}, {"amount": "5.000", "description": "TRANSFER"}],
    )
    run = reconcile_day(day=day, source="bank")
    by_reference = StatementLine.objects.get(reference=topup.reference)
    by_amount = StatementLine.objects.get(description="TRANSFER")
    assert (run.matched, run.settled_amount) == (1, D("5.000"))
    assert (by_reference.status, by_reference.matched_entry_id) == (LineStatus.MATCHED, topup.entry_id)
    assert (by_amount.status, by_amount.matched_entry_id) == (LineStatus.EXCEPTION, None)
    assert ReconException.objects.get(line=by_amount).kind == ExceptionKind.UNMATCHED_LINE
    assert balance(system("bank_clearing")) == D("0.000")
    assert verify().ok


def test_gateway_lines_are_written_settled_by_their_batchs_entry():
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
    statement("bank", day, [{"amount": "29.400", "reference": "B-1"}])
    reconcile_day(day=day, source="gateway")
    batch = GatewayBatch.objects.get(batch_id="B-1")
    assert batch.settlement_entry_id is not None
    gateway_lines = StatementLine.objects.filter(source="gateway")
    assert {(line.status, line.settled_entry_id) for line in gateway_lines} == {
        (LineStatus.MATCHED, batch.settlement_entry_id)
    }
    assert {line.matched_entry_id for line in gateway_lines} == {a.entry_id, b.entry_id}


def test_a_batch_matched_one_day_and_paid_the_next_settles_the_lines_matched_before():
    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-9"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": b.reference, "batch_id": "B-9"},
        ],
        batches=[{"batch_id": "B-9", "gross": D("30.000"), "fee": D("0.600"), "net": D("29.400")}],
    )
    first = reconcile_day(day=day, source="gateway")  # the payout has not reached the bank yet
    assert (first.matched, first.settled_amount, first.open_exceptions) == (2, D("0.000"), 0)
    assert not StatementLine.objects.filter(settled_entry__isnull=False).exists()
    statement("bank", day, [{"amount": "29.400", "reference": "B-9"}])
    again = reconcile_day(day=day, source="gateway")
    batch = GatewayBatch.objects.get(batch_id="B-9")
    assert (again.settled_amount, batch.bank_line.status) == (D("29.400"), LineStatus.MATCHED)
    assert set(StatementLine.objects.filter(source="gateway").values_list("settled_entry_id", flat=True)) == {
        batch.settlement_entry_id
    }
    assert balance(system("gateway_clearing")) == D("0.000")
    assert verify().ok


def test_a_batch_with_an_unmatched_line_waits_and_its_matched_lines_stay_unsettled():
    day = today()
    a = paid_online("card", "20.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-5"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": "OTUNKNOWN", "batch_id": "B-5"},
        ],
        batches=[{"batch_id": "B-5", "gross": D("30.000"), "fee": D("0.600"), "net": D("29.400")}],
    )
    statement("bank", day, [{"amount": "29.400", "reference": "B-5"}])
    run = reconcile_day(day=day, source="gateway")
    assert (run.matched, run.settled_amount) == (1, D("0.000"))
    assert GatewayBatch.objects.get(batch_id="B-5").settlement_entry is None
    assert StatementLine.objects.get(reference=a.reference).settled_entry is None
    assert StatementLine.objects.get(reference="OTUNKNOWN").status == LineStatus.EXCEPTION
    assert StatementLine.objects.get(reference="B-5").status == LineStatus.UNMATCHED  # the credit waits too


@pytest.mark.postgres
def test_an_import_leaves_the_planner_statistics_counting_its_lines(tmp_path):
    """Without them, lines imported since autovacuum last looked count as none and the matching plans
    nested loops (quadratic on a big day)."""
    day = today()
    references = [(f"OTSTATS{n:05d}", D("10.000"), D("0.150")) for n in range(300)]
    record = import_file(gateway_csv(tmp_path / "gw.csv", day, "B-S", "PAYOUT-S", references))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'settlements_statementline'")
        assert cursor.fetchone()[0] == record.line_count == 300


@pytest.mark.postgres
def test_the_day_is_paired_and_written_with_room_to_hash_which_is_given_back_after():
    """With the default 4 MB a million-line hash spills into batches, and the UPDATE then walks the lines
    once per batch; the larger ``work_mem`` is for those two statements only, not the rest of the run."""
    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-2"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": b.reference, "batch_id": "B-2"},
        ],
        batches=[{"batch_id": "B-2", "gross": D("30.000"), "fee": D("0.600"), "net": D("29.400")}],
    )
    seen: dict[str, str] = {}

    def spy(execute, sql, params, many, context):
        for marker in (f"CREATE TEMPORARY TABLE {matching.TABLE}", "UPDATE settlements_statementline AS l"):
            if sql.lstrip().startswith(marker):
                context["cursor"].execute("SELECT current_setting('work_mem')")
                seen[marker.split()[0]] = context["cursor"].fetchone()[0]
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem')")
        before = cursor.fetchone()[0]
    with connection.execute_wrapper(spy):
        run = reconcile_day(day=day, source="gateway")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('work_mem')")
        after = cursor.fetchone()[0]
    assert run.matched == 2
    assert seen == {"CREATE": matching.HASH_WORK_MEM, "UPDATE": matching.HASH_WORK_MEM}
    assert after == before != matching.HASH_WORK_MEM


def test_lines_are_not_indexed_on_their_settlement_entry():
    """Nothing looks a line up by its settlement entry: a million-line day would maintain the index for nothing."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, StatementLine._meta.db_table)
    indexed = [c["columns"] for c in constraints.values() if (c["index"] or c["unique"]) and not c["primary_key"]]
    assert ["matched_entry_id"] in indexed  # the one-to-one's unique index: the introspection does see indexes
    assert not any(columns[:1] == ["settled_entry_id"] for columns in indexed)


def test_writing_the_pairs_says_how_many_lines_it_wrote():
    day = today()
    a, b = paid_online("card", "20.000"), paid_online("card", "10.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-3"},
            {"amount": "9.800", "gross": D("10.000"), "fee": D("0.200"), "reference": b.reference, "batch_id": "B-3"},
            {"amount": "4.900", "gross": D("5.000"), "fee": D("0.100"), "reference": "OTNOWHERE", "batch_id": "B-3"},
        ],
    )
    clearing = system_account_id(SystemAccount.GATEWAY_CLEARING)
    paired = matching.find_reference_matches(
        day, Source.GATEWAY, kinds=(EntryKind.ONLINE_TOPUP,), accounts=(clearing,), amount_column="gross"
    )
    assert (paired, matching.write_matches()) == (2, 2)
    assert set(StatementLine.objects.filter(status=LineStatus.MATCHED).values_list("reference", flat=True)) == {
        a.reference,
        b.reference,
    }


@pytest.mark.parametrize("first", [0, 1], ids=["earlier day first", "later day first"])
def test_lines_of_two_days_competing_for_one_entry_are_ambiguous_whichever_day_runs_first(first):
    """The entry's window holds both lines: matching it to the line of the day run first would be a guess."""
    day = today()
    only = paid_online("bank", "4.000")
    days = [day, day + dt.timedelta(days=1)]
    for booked in days:
        statement("bank", booked, [{"amount": "4.000", "description": "TRANSFER"}])
    for booked in (days[first], days[1 - first]):
        reconcile_day(day=booked, source="bank")
    lines = StatementLine.objects.all()
    assert {(line.status, line.matched_entry_id) for line in lines} == {(LineStatus.EXCEPTION, None)}
    ambiguous = ReconException.objects.filter(kind=ExceptionKind.AMBIGUOUS_LINE)
    assert sorted(ambiguous.values_list("line__booking_date", flat=True)) == days
    assert {tuple(exception.suggestions) for exception in ambiguous} == {(str(only.entry_id),)}
    assert balance(system("bank_clearing")) == D("4.000")
    assert verify().ok


def test_a_line_whose_reference_names_another_entry_competes_for_no_amount():
    """A line whose reference is in the ledger is that entry's (or an amount mismatch): no rival to a line
    looking for an entry of the same amount."""
    day = today()
    only, other = paid_online("bank", "4.000"), paid_online("bank", "9.000")
    statement(
        "bank",
        day,
        [{"amount": "4.000", "description": "TRANSFER"}, {"amount": "4.000", "reference": other.reference}],
    )
    reconcile_day(day=day, source="bank")
    assert StatementLine.objects.get(description="TRANSFER").matched_entry_id == only.entry_id
    mismatch = ReconException.objects.get(line__reference=other.reference)
    assert mismatch.kind == ExceptionKind.AMOUNT_MISMATCH


def test_a_refund_is_no_second_line_of_its_payments_reference_and_pairs_with_nothing():
    day = today()
    a = paid_online("card", "20.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-4"},
            {
                "amount": "-20.000",
                "gross": D("-20.000"),
                "fee": D("0.000"),
                "reference": a.reference,
                "batch_id": "B-4",
                "is_reversal": True,
            },
        ],
    )
    clearing = system_account_id(SystemAccount.GATEWAY_CLEARING)
    paired = matching.find_reference_matches(
        day, Source.GATEWAY, kinds=(EntryKind.ONLINE_TOPUP,), accounts=(clearing,), amount_column="gross"
    )
    assert (paired, matching.write_matches()) == (1, 1)
    payment = StatementLine.objects.get(is_reversal=False)
    assert (payment.status, payment.matched_entry_id) == (LineStatus.MATCHED, a.entry_id)
    assert StatementLine.objects.get(is_reversal=True).status == LineStatus.UNMATCHED


def test_a_batch_waits_for_its_payments_not_for_its_refunds():
    day = today()
    a = paid_online("card", "20.000")
    statement(
        "gateway",
        day,
        [
            {"amount": "19.600", "gross": D("20.000"), "fee": D("0.400"), "reference": a.reference, "batch_id": "B-6"},
            {
                "amount": "-5.000",
                "gross": D("-5.000"),
                "fee": D("0.000"),
                "reference": "OT-REFUNDED-ELSEWHERE",
                "batch_id": "B-6",
                "is_reversal": True,
            },
        ],
        batches=[{"batch_id": "B-6", "gross": D("15.000"), "fee": D("0.400"), "net": D("14.600")}],
    )
    batch = GatewayBatch.objects.get(batch_id="B-6")
    clearing = system_account_id(SystemAccount.GATEWAY_CLEARING)
    matching.find_reference_matches(
        day, Source.GATEWAY, kinds=(EntryKind.ONLINE_TOPUP,), accounts=(clearing,), amount_column="gross"
    )
    assert matching.batches_accounted_for(day) == [batch.pk]
    matching.write_matches()
