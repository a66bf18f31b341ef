"""Importing statements (all or nothing) and a whole reconciled day through the nightly job."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from erial.errors import InvalidRequest
from ledger.businessday import today
from ledger.models import AccountBalance, DaySeal
from ledger.selectors import balance
from ledger.verification import verify
from settlements.importing import ImportRefused, import_file
from settlements.models import (
    ExceptionKind,
    GatewayBatch,
    LineStatus,
    ReconException,
    Statement,
    StatementFile,
    StatementLine,
)
from settlements.nightly import run_nightly
from tests.factories import D, system
from tests.settlements.statements import camt053, gateway_csv
from tests.settlements.test_reconciliation import paid_online

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def nothing_imported() -> bool:
    return not (StatementFile.objects.exists() or Statement.objects.exists() or StatementLine.objects.exists())


@pytest.fixture
def snapshot(ledger_snapshot):
    """What the statements and the ledger hold, to prove a refused file left nothing behind."""

    def take() -> dict:
        return {
            "files": StatementFile.objects.count(),
            "statements": Statement.objects.count(),
            "lines": StatementLine.objects.count(),
            "batches": GatewayBatch.objects.count(),
            "ledger": ledger_snapshot(),
        }

    return take


def edited(tmp_path: Path, fixture: str, old: str, new: str, name: str | None = None) -> Path:
    """A copy of a fixture with one change (``old`` must occur exactly once)."""
    text = (FIXTURES / fixture).read_text()
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {fixture}"
    path = tmp_path / (name or fixture)
    path.write_text(text.replace(old, new))
    return path


def test_a_camt_statement_imports_every_line_once(tmp_path):
    record = import_file(FIXTURES / "camt053-omr-seq41.xml")
    assert (record.source, record.file_format, record.statement_count) == ("bank", "camt053", 1)
    assert record.line_count == StatementLine.objects.count() >= 4
    with pytest.raises(ImportRefused, match="already imported"):
        import_file(FIXTURES / "camt053-omr-seq41.xml")
    copy = shutil.copy(FIXTURES / "camt053-omr-seq41.xml", tmp_path / "renamed.xml")
    with pytest.raises(ImportRefused, match="already imported"):  # the content, not the name, identifies it
        import_file(copy)
    assert StatementFile.objects.count() == 1


def test_a_gap_in_the_statement_sequence_is_refused_and_imports_nothing(snapshot):
    import_file(FIXTURES / "camt053-omr-seq41.xml")
    paid_online("bank", "4.000")
    before = snapshot()
    with pytest.raises(ImportRefused, match="skips the sequence"):
        import_file(FIXTURES / "camt053-omr-seq43.xml")
    assert snapshot() == before and before["files"] == 1


def test_a_repeated_statement_sequence_number_is_refused_and_imports_nothing(tmp_path, snapshot):
    """Another statement (other content, so not the same file) with a sequence number already imported."""
    import_file(FIXTURES / "camt053-omr-seq41.xml")
    paid_online("bank", "4.000")
    before = snapshot()
    again = edited(tmp_path, "camt053-omr-seq41.xml", "<Id>BMCT-0312004567890011-20250115</Id>",
                   "<Id>BMCT-0312004567890011-20250115-RESENT</Id>")  # fmt: skip
    with pytest.raises(ImportRefused, match="has sequence 41, which repeats the sequence: the last imported is 41"):
        import_file(again)
    assert snapshot() == before


def test_a_sequence_number_repeated_inside_one_file_refuses_the_whole_file(tmp_path, snapshot):
    """The MT940's second statement says 41 again: the first statement, already stored, goes too."""
    paid_online("bank", "4.000")
    before = snapshot()
    with pytest.raises(ImportRefused, match=r"BMCT250116042 .* has sequence 41, which repeats"):
        import_file(edited(tmp_path, "mt940-omr.sta", ":28C:00042/1", ":28C:00041/1"))
    assert snapshot() == before and nothing_imported()


def test_a_sequence_number_already_imported_in_another_format_is_refused(snapshot):
    """The bank's MT940 (statements 41 and 42) and then its camt.053 of statement 41: the account's sequence
    is one, whatever the format."""
    import_file(FIXTURES / "mt940-omr.sta")
    before = snapshot()
    with pytest.raises(ImportRefused, match="has sequence 41, which repeats the sequence: the last imported is 42"):
        import_file(FIXTURES / "camt053-omr-seq41.xml")
    assert snapshot() == before


def test_mt940_and_gateway_csv_import(tmp_path):
    assert import_file(FIXTURES / "mt940-omr.sta").statement_count == 2
    gateway = import_file(FIXTURES / "gateway-omr.csv")
    assert gateway.source == "gateway" and gateway.statement_count == 1
    assert {b.batch_id: b.payout_reference for b in gateway.statements.get().batches.all()} == {
        "B20250115-01": "GWPAYOUT-20250116-01",
        "B20250116-01": "GWPAYOUT-20250117-01",
    }


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda text: text.replace("1412.750", "1412.751"), "closing"),
        (lambda text: text.replace(">25.750<", ">25.7505<"), "3 decimal"),
        (lambda text: text[: len(text) // 2], "nothing imported"),
    ],
)
def test_malformed_statements_are_refused_whole(tmp_path, mutate, why, snapshot):
    paid_online("bank", "4.000")
    before = snapshot()
    bad = tmp_path / "bad.xml"
    bad.write_text(mutate((FIXTURES / "camt053-omr-seq41.xml").read_text()))
    with pytest.raises(ImportRefused, match=why):
        import_file(bad)
    assert nothing_imported() and snapshot() == before


@pytest.mark.parametrize(
    ("fixture", "mutate", "why"),
    [
        # MT940: the first statement is whole and was stored before the second one's closing balance is read.
        ("mt940-omr.sta", lambda text: text.replace(":62M:C250116OMR1412,750", ":62M:C250116OMR1412,751"),
         "line 26: opening balance 1364.250 .* closing balance :62M: is 1412.751"),
        ("mt940-omr.sta", lambda text: text.replace("C49,875NTRF", "C49,8755NTRF"), "line 22: .*more than 3 decimal"),
        ("mt940-omr.sta", lambda text: text[: text.index(":62M:")],
         "line 26: statement 2 ends without a closing balance"),
        ("mt940-omr.sta", lambda text: text.replace(":60M:C250115OMR", ":60M:C250115USD"),
         "line 21: currency USD where OMR is expected"),
        # Gateway CSV: the first batch's rows were stored before the second batch's wrong total is read.
        ("gateway-omr.csv", lambda text: text.replace(",100.500,1.508,98.992,OMR", ",100.501,1.508,98.993,OMR"),
         "line 8: BATCH B20250116-01 states gross 100.501"),
        ("gateway-omr.csv", lambda text: text.replace(",25.500,0.383,25.117,", ",25.500,0.383,25.118,"),
         "line 3: net 25.118 is not gross 25.500 - fee 0.383"),
        ("gateway-omr.csv", lambda text: text[: text.index("BATCH,B20250116-01")],
         "line 7: no BATCH row pays out batch\\(es\\) B20250116-01"),
        # A repeated partner_txn_id: found by the database once the lines are stored (the parser's memory
        # stays flat), in the import's transaction, naming both lines.
        ("gateway-omr.csv", lambda text: text.replace("OT3F2A9C1B7E03,gw_000815", "OT3F2A9C1B7E03,gw_000812"),
         "line 6: partner_txn_id 'gw_000812' repeats line 2 of the report: one transaction reported twice"),
        ("gateway-omr.csv", lambda text: text.replace("OT3F2A9C1B7E02,gw_000813", "OT3F2A9C1B7E02,gw_000812"),
         "line 3: partner_txn_id 'gw_000812' repeats line 2 of the report"),
        ("gateway-omr.csv", lambda text: text.replace("OT3F2A9C1B7D99,gw_000814", "OT3F2A9C1B7D99,gw_000813"),
         "line 4: partner_txn_id 'gw_000813' repeats line 3 of the report"),
    ],
    ids=["mt940-closing", "mt940-decimals", "mt940-truncated", "mt940-currency", "csv-batch-total", "csv-net",
         "csv-truncated", "csv-repeated-partner-txn-id-other-batch", "csv-repeated-partner-txn-id",
         "csv-refund-repeating-a-payment-id"],
)  # fmt: skip
def test_malformed_mt940_and_gateway_csv_are_refused_whole(tmp_path, fixture, mutate, why, snapshot):
    paid_online("card", "4.000")
    before = snapshot()
    bad = tmp_path / fixture
    bad.write_text(mutate((FIXTURES / fixture).read_text()))
    with pytest.raises(ImportRefused, match=f"{fixture} refused, nothing imported: {why}"):
        import_file(bad)
    assert nothing_imported() and snapshot() == before


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", b"date,amount,reference\n2025-01-15,1.000,X\n", b"", b"\n\n"],
    ids=["pdf", "another-csv", "empty", "blank-lines"],
)
def test_a_file_in_no_known_format_is_refused_and_imports_nothing(tmp_path, content, snapshot):
    paid_online("bank", "4.000")
    before = snapshot()
    path = tmp_path / "statement.dat"
    path.write_bytes(content)
    with pytest.raises(InvalidRequest, match=r"statement\.dat: not a camt\.053, MT940 or gateway settlement CSV file"):
        import_file(path)
    assert nothing_imported() and snapshot() == before


def test_reconcile_command_imports_with_progress_and_is_safe_twice(tmp_path, capsys):
    day = today()
    topup = paid_online("bank", "11.000")
    path = camt053(tmp_path / "day.xml", day, [(topup.reference, Decimal("11.000"))], sequence=1)
    call_command("reconcile", "--date", str(day), "--file", str(path))
    call_command("reconcile", "--date", str(day), "--file", str(path))
    out = capsys.readouterr()
    assert "imported day.xml: 1 statement(s), 1 lines" in out.out
    assert "already imported" in out.err
    assert "bank " + str(day) + ": completed, 1 matched, 11.000 OMR settled, 0 open exception(s) (run 1)" in out.out
    assert "(run 2)" in out.out
    assert balance(system("bank")) == D("11.000")


def test_a_whole_day_bank_and_gateway_through_the_nightly_job_leaves_nothing_unexplained(tmp_path, settings):
    settings.ERIAL_INBOX_DIR = tmp_path
    (tmp_path / "bank").mkdir()
    (tmp_path / "gateway").mkdir()
    yesterday = today() - dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - dt.timedelta(days=1)):
        bank_topups = [paid_online("bank", amount) for amount in ("10.000", "2.500", "7.125")]
        card_topups = [paid_online("card", amount) for amount in ("20.000", "5.000")]
    gateway_csv(
        tmp_path / "gateway" / "settlement.csv",
        yesterday,
        "B-77",
        "GWPAYOUT-77",
        [(t.reference, t.amount, Decimal("0.300")) for t in card_topups],
    )
    camt053(
        tmp_path / "bank" / "statement.xml",
        yesterday,
        [(t.reference, t.amount) for t in bank_topups] + [("GWPAYOUT-77", Decimal("24.400"))],
        sequence=7,
    )

    report = run_nightly(yesterday)

    assert report.imported == ["settlement.csv", "statement.xml"] and not report.refused
    assert [(run["day"], run["source"], run["open_exceptions"]) for run in report.runs] == [
        (str(yesterday), "gateway", 0),
        (str(yesterday), "bank", 0),
    ]
    assert report.open_exceptions == 0
    assert not ReconException.objects.exists()
    assert balance(system("bank_clearing")) == D("0.000") and balance(system("gateway_clearing")) == D("0.000")
    assert balance(system("bank")) == D("19.625") + D("24.400")
    assert balance(system("gateway_fee_expense")) == D("0.600")
    assert DaySeal.objects.filter(business_day=yesterday).exists()
    assert (tmp_path / "bank" / "processed" / "statement.xml").exists()
    assert verify().ok
    assert report.books_balance and report.as_dict()["books_balance"] is True
    assert report.as_dict()["books_findings"] == []
    again = run_nightly(yesterday)  # the same night again: nothing to import, nothing changes
    assert again.imported == [] and balance(system("bank")) == D("44.025")


def test_the_nightly_job_proves_the_books_and_says_loudly_when_they_do_not_balance(tmp_path, settings, caplog):
    settings.ERIAL_INBOX_DIR = tmp_path
    account = paid_online("bank", "10.000").wallet.account
    AccountBalance.objects.filter(account=account).update(balance="999.000")  # a drift nobody posted
    with caplog.at_level(logging.ERROR, logger="settlements.nightly"):
        report = run_nightly(today() - dt.timedelta(days=1))
    assert not report.books_balance
    assert any(f"account {account.code}: cached balance 999.000" in finding for finding in report.books_findings)
    assert report.as_dict()["books_balance"] is False
    assert "THE BOOKS DO NOT BALANCE" in caplog.text


@pytest.mark.parametrize("same_night", [False, True], ids=["after-the-first-was-matched", "both-the-same-night"])
def test_a_card_payment_reported_again_in_another_file_is_imported_but_never_matched_twice(tmp_path, same_night):
    """Across files nothing refuses a repeated partner_txn_id (lines carry no unique key): the repeat is
    imported, but a reference on two open lines matches neither. Reported after the first was matched, the
    repeat alone is an exception and its batch waits; reported the same night, both lines are, and both
    batches wait for finance."""
    day = today()
    card = paid_online("card", "10.000")
    # The builder numbers partner ids per file: both files report the payment as gw_000001.
    gateway_csv(tmp_path / "first.csv", day, "B-1", "GWPAYOUT-1", [(card.reference, card.amount, D("0.150"))])
    gateway_csv(tmp_path / "again.csv", day, "B-2", "GWPAYOUT-2", [(card.reference, card.amount, D("0.150"))])
    camt053(tmp_path / "bank-1.xml", day, [("GWPAYOUT-1", D("9.850"))], sequence=1)
    camt053(tmp_path / "bank-2.xml", day, [("GWPAYOUT-2", D("9.850"))], sequence=2)
    import_file(tmp_path / "first.csv")
    import_file(tmp_path / "bank-1.xml")
    if not same_night:
        call_command("reconcile", "--date", str(day))
    import_file(tmp_path / "again.csv")
    import_file(tmp_path / "bank-2.xml")
    assert list(StatementLine.objects.filter(source="gateway").values_list("bank_reference", flat=True)) == [
        "gw_000001",
        "gw_000001",
    ]

    call_command("reconcile", "--date", str(day))

    first, again = StatementLine.objects.filter(source="gateway").order_by("id")
    exceptions = ReconException.objects.filter(kind=ExceptionKind.UNMATCHED_LINE, source="gateway").order_by("id")
    assert GatewayBatch.objects.get(batch_id="B-2").settlement_entry_id is None
    if same_night:
        assert (first.status, again.status) == (LineStatus.EXCEPTION, LineStatus.EXCEPTION)
        assert [e.line_id for e in exceptions] == [first.pk, again.pk]
        [missing] = ReconException.objects.filter(kind=ExceptionKind.MISSING_FROM_STATEMENT)
        assert missing.entry.reference == card.reference  # and the top-up is on no line, as far as matching goes
        assert GatewayBatch.objects.get(batch_id="B-1").settlement_entry_id is None
        assert balance(system("gateway_clearing")) == D("10.000") and balance(system("bank")) == D("0.000")
    else:
        assert (first.status, again.status) == (LineStatus.MATCHED, LineStatus.EXCEPTION)
        assert [e.line_id for e in exceptions] == [again.pk]
        assert not ReconException.objects.filter(kind=ExceptionKind.MISSING_FROM_STATEMENT).exists()
        assert GatewayBatch.objects.get(batch_id="B-1").settlement_entry_id is not None
        assert balance(system("gateway_clearing")) == D("0.000") and balance(system("bank")) == D("9.850")
    assert verify().ok
