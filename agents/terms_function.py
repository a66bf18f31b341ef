"""The terms of a top-up on PostgreSQL as one function, ``agents_terms(office, at, session)``.

Why: the terms query (a UNION of window functions) cost 0.85 ms to plan and 0.25 ms to run, on every cash
top-up (bench/RESULTS.md). PL/pgSQL keeps the plans of its statements for the connection's life, so only
the first call of a connection plans. Same rows as ``agents.selectors._TERMS_SQL`` plus the session's row,
which holds the session (FOR SHARE) until the caller's transaction ends; SQLite runs that SQL as it is.
"""

from __future__ import annotations

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION agents_terms(p_office bigint, p_at timestamptz, p_session uuid)
RETURNS TABLE (source text, kind text, owner bigint, amount numeric, minimum numeric, maximum numeric)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  SELECT 'office'::text, o.status::text, NULL::bigint, NULL::numeric, NULL::numeric, NULL::numeric
    FROM agents_office o WHERE o.id = p_office
  UNION ALL
  SELECT 'limit', l.kind::text, l.office_id, l.amount, NULL, NULL FROM (
      SELECT li.kind, li.office_id, li.amount,
             ROW_NUMBER() OVER (PARTITION BY li.kind, li.office_id ORDER BY li.effective_from DESC, li.id DESC) AS n
        FROM agents_limit li
       WHERE li.effective_from <= p_at AND (li.office_id = p_office OR li.office_id IS NULL)
  ) AS l WHERE l.n = 1
  UNION ALL
  SELECT 'commission', r.kind::text, r.office_id, r.rate, r.minimum, r.maximum FROM (
      SELECT ru.kind, ru.office_id, ru.rate, ru.minimum, ru.maximum,
             ROW_NUMBER() OVER (PARTITION BY ru.office_id ORDER BY ru.effective_from DESC, ru.id DESC) AS n
        FROM agents_commissionrule ru
       WHERE ru.effective_from <= p_at AND (ru.office_id = p_office OR ru.office_id IS NULL)
  ) AS r WHERE r.n = 1
  UNION ALL
  SELECT 'session', (SELECT s.status::text FROM agents_cashiersession s WHERE s.id = p_session FOR SHARE),
         NULL, NULL, NULL, NULL;
END $$;
"""

DROP_SQL = "DROP FUNCTION IF EXISTS agents_terms(bigint, timestamptz, uuid)"

CALL_SQL = "SELECT source, kind, owner, amount, minimum, maximum FROM agents_terms(%s, %s, %s)"


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)
        schema_editor.execute(FUNCTION_SQL)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)
