"""Statement lines' keys carry no database constraint (a million-line day); ``verify`` proves them instead."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.businessday import today
from ledger.verification import verify
from settlements.checks import lines_name_missing_rows
from settlements.models import StatementLine
from settlements.reconciliation import reconcile_day
from tests.settlements.test_reconciliation import paid_online, statement

pytestmark = pytest.mark.django_db

CHECK = "statement lines name rows that exist"


def _matched_line() -> StatementLine:
    day = today()
    topup = paid_online("bank", "10.000")
    statement("bank", day, [{"amount": "10.000", "reference": topup.reference}])
    reconcile_day(day=day, source="bank")
    line = StatementLine.objects.get()
    assert line.matched_entry_id == topup.entry_id and line.settled_entry_id is not None
    return line


def test_verify_holds_when_every_line_names_existing_rows():
    _matched_line()
    report = verify()
    assert CHECK in report.results
    assert report.results[CHECK] == [] and report.ok


@pytest.mark.parametrize("column", ["matched_entry_id", "settled_entry_id", "statement_id"])
def test_verify_names_a_line_whose_key_names_no_row(column):
    line = _matched_line()
    missing = uuid.uuid4().hex if column != "statement_id" else 999_999_999
    with connection.cursor() as cursor:  # what no code path writes: only a broken import or a hand could
        cursor.execute(f"UPDATE settlements_statementline SET {column} = %s WHERE id = %s", [missing, line.pk])
    findings = lines_name_missing_rows()
    assert len(findings) == 1 and f"statement line {line.pk}: {column}" in findings[0]
    report = verify()
    assert not report.ok and report.results[CHECK] == findings


@pytest.mark.parametrize("table", ["settlements_statementline", "settlements_statement"])
def test_statements_and_their_lines_refuse_delete_even_in_raw_sql(table):
    """The keys carry no constraint, so the database itself keeps a statement under its lines."""
    line = _matched_line()
    before = StatementLine.objects.count()
    with pytest.raises(DatabaseError, match="forbidden"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    assert StatementLine.objects.count() == before and StatementLine.objects.filter(pk=line.pk).exists()
    assert verify().ok
