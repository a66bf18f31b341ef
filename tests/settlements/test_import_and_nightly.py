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

from ledger.businessday import today
from ledger.models import AccountBalance, DaySeal
from ledger.selectors import balance
from ledger.verification import verify
from settlements.importing import ImportRefused, import_file
from settlements.models import ReconException, Statement, StatementFile, StatementLine
from settlements.nightly import run_nightly
from tests.factories import D, system
from tests.settlements.statements import camt053, gateway_csv
from tests.settlements.test_reconciliation import paid_online

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def nothing_imported() -> bool:
    return not (StatementFile.objects.exists() or Statement.objects.exists() or StatementLine.objects.exists())


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


def test_a_gap_in_the_statement_sequence_is_refused_and_imports_nothing():
    import_file(FIXTURES / "camt053-omr-seq41.xml")
    lines = StatementLine.objects.count()
    with pytest.raises(ImportRefused, match="skips the sequence"):
        import_file(FIXTURES / "camt053-omr-seq43.xml")
    assert StatementLine.objects.count() == lines and StatementFile.objects.count() == 1


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
def test_malformed_statements_are_refused_whole(tmp_path, mutate, why):
    bad = tmp_path / "bad.xml"
    bad.write_text(mutate((FIXTURES / "camt053-omr-seq41.xml").read_text()))
    with pytest.raises(ImportRefused, match=why):
        import_file(bad)
    assert nothing_imported()


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
    assert report.runs["gateway"]["open_exceptions"] == 0 and report.runs["bank"]["open_exceptions"] == 0
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
