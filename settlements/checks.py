"""``verify`` checks for statement lines, whose keys carry no database constraint (see ``models.LINE_KEY``)."""

from __future__ import annotations

from django.db import connection

#: Findings listed per key at most: a broken import could leave a million.
SHOWN = 100
#: (column of ``settlements_statementline``, table it names)
LINE_KEYS = (
    ("statement_id", "settlements_statement"),
    ("matched_entry_id", "ledger_entry"),
    ("settled_entry_id", "ledger_entry"),
)


def lines_name_missing_rows() -> list[str]:
    """Every id a statement line holds names a row that exists: one anti-join per key, whatever the size."""
    findings = []
    with connection.cursor() as cursor:
        for column, table in LINE_KEYS:
            cursor.execute(
                f"SELECT l.id, l.{column} FROM settlements_statementline AS l "
                f"WHERE l.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.id = l.{column}) "
                f"ORDER BY l.id LIMIT {SHOWN}"
            )
            found = [f"statement line {line}: {column} {value} names no row of {table}" for line, value in cursor]
            if len(found) == SHOWN:
                found[-1] += f" (the first {SHOWN} shown; there may be more)"
            findings += found
    return findings
