"""The nightly job: every day the night's files book lines on is reconciled, a refused file is set aside while
the good ones are imported, and the schedule lives in the database at 01:00 Asia/Muscat."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from ledger.businessday import today
from ledger.selectors import balance
from settlements.models import (
    ExceptionKind,
    ExceptionStatus,
    GatewayBatch,
    LineStatus,
    ReconciliationRun,
    ReconException,
    Statement,
    StatementFile,
    StatementLine,
)
from settlements.nightly import run_nightly
from tests.factories import D, system
from tests.settlements.statements import CAMT_ENTRY, CAMT_HEAD, camt053, gateway_csv
from tests.settlements.test_reconciliation import paid_online

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def camt053_over_days(path: Path, credits: list[tuple[dt.date, str, Decimal]], *, sequence: int) -> Path:
    """A bank statement whose entries are booked on the days given (a statement may span several)."""
    days = sorted(day for day, _, _ in credits)
    closing = sum((amount for _, _, amount in credits), Decimal("0.000"))
    with path.open("w") as out:
        out.write(
            CAMT_HEAD.format(msg=f"STMT-{sequence}", day=days[-1], seq=sequence, opening="0.000", closing=closing)
        )
        for n, (day, reference, amount) in enumerate(credits, 1):
            out.write(CAMT_ENTRY.format(amount=amount, day=day, n=n, reference=reference))
        out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return path


def paid_on(day: dt.date, channel: str, amount: str):
    """An online top-up credited on ``day`` (at this time of day)."""
    noon = timezone.now() - dt.timedelta(days=(today() - day).days)
    with mock.patch("django.utils.timezone.now", return_value=noon):
        return paid_online(channel, amount)


@pytest.fixture
def inbox(tmp_path, settings):
    settings.ERIAL_INBOX_DIR = tmp_path
    for source in ("bank", "gateway"):
        (tmp_path / source).mkdir()
    return tmp_path


def test_every_day_the_nights_files_book_lines_on_is_reconciled_in_day_order(inbox):
    yesterday = today() - dt.timedelta(days=1)
    three_days_ago, two_days_ago = yesterday - dt.timedelta(days=2), yesterday - dt.timedelta(days=1)
    late = paid_on(three_days_ago, "bank", "8.000")  # its statement line comes only tonight
    on_time = paid_on(yesterday, "bank", "3.250")
    camt053_over_days(
        inbox / "bank" / "statement.xml",
        [
            (three_days_ago, late.reference, D("8.000")),
            (two_days_ago, "NOBODY-KNOWS-THIS", D("4.500")),  # in no ledger: must become an exception
            (yesterday, on_time.reference, D("3.250")),
            (today(), "BOOKED-TODAY", D("1.000")),  # today is not over: reconciled tomorrow night, as yesterday
        ],
        sequence=1,
    )

    report = run_nightly()

    assert report.imported == ["statement.xml"]
    assert [(run["day"], run["source"]) for run in report.runs] == [
        (str(three_days_ago), "bank"),
        (str(two_days_ago), "bank"),
        (str(yesterday), "gateway"),
        (str(yesterday), "bank"),
    ]
    assert report.as_dict()["days_reconciled"] == [str(three_days_ago), str(two_days_ago), str(yesterday)]
    assert report.deferred == [f"bank {today()}"]
    by_day = {run["day"]: run for run in report.runs if run["source"] == "bank"}
    assert by_day[str(three_days_ago)]["matched"] == 1 and by_day[str(three_days_ago)]["settled"] == "8.000"
    assert by_day[str(two_days_ago)]["open_exceptions"] == 1
    assert by_day[str(yesterday)]["matched"] == 1 and by_day[str(yesterday)]["open_exceptions"] == 0
    assert report.open_exceptions == 1 and report.as_dict()["open_exceptions"] == 1
    [exception] = ReconException.objects.filter(status=ExceptionStatus.OPEN)
    assert (exception.kind, exception.business_day, exception.amount) == (
        ExceptionKind.UNMATCHED_LINE,
        two_days_ago,
        D("4.500"),
    )
    assert StatementLine.objects.get(reference=late.reference).status == LineStatus.MATCHED
    assert StatementLine.objects.get(reference="BOOKED-TODAY").status == LineStatus.UNMATCHED
    assert balance(system("bank_clearing")) == D("0.000") and balance(system("bank")) == D("11.250")
    assert report.books_balance

    # Tomorrow night, today is yesterday: its line is reconciled then (an exception: nobody knows it).
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(days=1)):
        tomorrow = run_nightly()
    assert [(run["day"], run["source"]) for run in tomorrow.runs] == [(str(today()), "gateway"), (str(today()), "bank")]
    assert StatementLine.objects.get(reference="BOOKED-TODAY").status == LineStatus.EXCEPTION


def test_a_gateway_file_of_earlier_days_is_reconciled_on_its_days_and_its_batch_settled(inbox):
    yesterday = today() - dt.timedelta(days=1)
    earlier = yesterday - dt.timedelta(days=1)
    card = paid_on(earlier, "card", "20.000")
    lines = [(card.reference, card.amount, D("0.300"))]
    gateway_csv(inbox / "gateway" / "settlement.csv", earlier, "B-E1", "GWPAYOUT-E1", lines)
    camt053(inbox / "bank" / "statement.xml", yesterday, [("GWPAYOUT-E1", D("19.700"))], sequence=3)

    report = run_nightly()

    assert [(run["day"], run["source"]) for run in report.runs] == [
        (str(earlier), "gateway"),
        (str(yesterday), "gateway"),
        (str(yesterday), "bank"),
    ]
    assert report.open_exceptions == 0 and not ReconException.objects.exists()
    assert GatewayBatch.objects.get(batch_id="B-E1").settlement_entry_id is not None
    assert balance(system("gateway_clearing")) == D("0.000") and balance(system("bank")) == D("19.700")
    assert ReconciliationRun.objects.get(business_day=earlier, source="gateway").matched == 1


def test_the_nightly_job_sets_refused_files_aside_and_imports_the_good_ones(inbox, ledger_snapshot, caplog):
    yesterday = today() - dt.timedelta(days=1)
    bank_topup, card_topup = paid_on(yesterday, "bank", "12.000"), paid_on(yesterday, "card", "30.000")
    gateway_csv(inbox / "gateway" / "settlement.csv", yesterday, "B-N1", "GWPAYOUT-N1",
                [(card_topup.reference, card_topup.amount, D("0.450"))])  # fmt: skip
    twice = gateway_csv(inbox / "gateway" / "twice.csv", yesterday, "B-BAD", "GWPAYOUT-BAD",
                        [("BAD-REF-1", D("5.000"), D("0.000")), ("BAD-REF-2", D("6.000"), D("0.000"))])  # fmt: skip
    twice.write_text(twice.read_text().replace("gw_000002", "gw_000001"))  # one transaction reported twice
    good = camt053(inbox / "bank" / "a-statement.xml", yesterday,
                   [(bank_topup.reference, D("12.000")), ("GWPAYOUT-N1", D("29.550"))], sequence=5)  # fmt: skip
    cut = camt053(inbox / "bank" / "b-cut.xml", yesterday, [("BAD-REF-3", D("7.000"))], sequence=6)
    cut.write_text(cut.read_text()[:300])  # the transfer stopped half-way
    (inbox / "bank" / "c-readme.txt").write_text("Statements for January attached.\n")
    (inbox / "bank" / "d-again.xml").write_bytes(good.read_bytes())  # the bank sent the same file twice
    before = ledger_snapshot()

    with caplog.at_level("WARNING", logger="settlements.nightly"):
        report = run_nightly()

    assert report.imported == ["settlement.csv", "a-statement.xml"]
    assert report.refused == ["twice.csv", "b-cut.xml", "c-readme.txt", "d-again.xml"]
    assert sorted(p.name for p in (inbox / "gateway" / "refused").iterdir()) == ["twice.csv"]
    assert sorted(p.name for p in (inbox / "bank" / "refused").iterdir()) == report.refused[1:]
    assert [p.name for p in (inbox / "gateway" / "processed").iterdir()] == ["settlement.csv"]
    assert [p.name for p in (inbox / "bank" / "processed").iterdir()] == ["a-statement.xml"]
    assert not [p for source in ("bank", "gateway") for p in (inbox / source).iterdir() if p.is_file()]
    for why in ("repeats line 2 of the report", "not well-formed or is cut short", "not a camt.053, MT940",
                "already imported"):  # fmt: skip
        assert why in caplog.text
    # Of the refused files nothing was imported: only the good files' statements, lines and settlements.
    assert sorted(StatementFile.objects.values_list("file_name", flat=True)) == ["a-statement.xml", "settlement.csv"]
    assert Statement.objects.count() == 2 and GatewayBatch.objects.get().batch_id == "B-N1"
    assert sorted(StatementLine.objects.values_list("reference", flat=True)) == sorted(
        [card_topup.reference, bank_topup.reference, "GWPAYOUT-N1"]
    )
    after = ledger_snapshot()
    assert after["entries"] == before["entries"] + 2  # the bank top-up's settlement and the batch's
    assert not ReconException.objects.exists() and report.open_exceptions == 0
    assert balance(system("bank")) == D("41.550") and balance(system("gateway_fee_expense")) == D("0.450")
    assert report.books_balance

    again = run_nightly()  # a refused file is not read again: finance deals with it
    assert again.imported == again.refused == [] and ledger_snapshot() == after


def test_the_nightly_job_is_scheduled_in_the_database_at_one_in_the_morning_asia_muscat():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from erial.celery import app
    from settlements.tasks import nightly_reconciliation

    # What `celery beat` does on start: the schedule goes to the database. (Beat closes the connections it finds
    # inside a transaction, as the test's own is: left open here.)
    with mock.patch("django_celery_beat.schedulers.close_old_connections"):
        scheduler = DatabaseScheduler(app=app)
    scheduler._finalize.cancel()  # nothing to write back at exit
    task = PeriodicTask.objects.get(name="nightly-reconciliation")
    assert task.task == nightly_reconciliation.name and task.task in app.tasks
    assert task.enabled and task.interval is None and task.clocked is None
    cron = task.crontab
    assert (cron.minute, cron.hour) == ("0", "1")
    assert (cron.day_of_month, cron.month_of_year, cron.day_of_week) == ("*", "*", "*")
    assert str(cron.timezone) == "Asia/Muscat"
    # Read back from the database as beat does: due at 01:00 in Muscat, which is 21:00 UTC the evening before.
    entry = scheduler.schedule["nightly-reconciliation"]
    muscat = dt.timezone(dt.timedelta(hours=4))
    last_run = dt.datetime(2025, 1, 14, 1, 0, tzinfo=muscat)
    for moment, due in [
        (dt.datetime(2025, 1, 15, 0, 59, tzinfo=muscat), False),
        (dt.datetime(2025, 1, 15, 1, 0, 30, tzinfo=muscat), True),
        (dt.datetime(2025, 1, 14, 21, 0, 30, tzinfo=dt.UTC), True),
    ]:
        with mock.patch.object(entry.schedule, "nowfun", return_value=moment):
            assert entry.schedule.is_due(last_run).is_due is due, moment
