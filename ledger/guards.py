"""Database guards that keep the books honest even against code that bypasses ``post()``.

Installed by migration 0002 and checked by ``verify_ledger`` (a table rebuilt by a later SQLite
migration would silently lose its triggers; verify says so).

PostgreSQL: entries, postings and seals refuse UPDATE and DELETE (trigger); each entry must have at
least two postings and sum to zero per currency, checked at COMMIT (deferred constraint triggers).
SQLite: the append-only triggers; zero-sum is checked by ``post()`` and by ``verify_ledger``.
"""

from __future__ import annotations

APPEND_ONLY_TABLES = ("ledger_entry", "ledger_posting", "ledger_dayseal")

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger: % on % is forbidden: the books are append-only; correct with a reversing entry',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;

CREATE OR REPLACE FUNCTION ledger_entry_is_balanced(entry uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  unbalanced record;
  postings integer;
BEGIN
  -- One check per entry per transaction: its deferred triggers (the entry's and each posting's) fire
  -- one after another at COMMIT, and the first one remembers the entry it proved.
  IF current_setting('ledger.last_balanced_entry', true) = entry::text THEN
    RETURN;
  END IF;
  SELECT count(*) INTO postings FROM ledger_posting WHERE entry_id = entry;
  IF postings < 2 THEN
    RAISE EXCEPTION 'ledger: entry % has fewer than two postings', entry USING ERRCODE = 'check_violation';
  END IF;
  SELECT amount_currency, sum(amount) AS total INTO unbalanced
    FROM ledger_posting WHERE entry_id = entry
    GROUP BY amount_currency HAVING sum(amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'ledger: entry % does not balance: postings sum to % %',
      entry, unbalanced.total, unbalanced.amount_currency USING ERRCODE = 'check_violation';
  END IF;
  PERFORM set_config('ledger.last_balanced_entry', entry::text, true);
END $$;

CREATE OR REPLACE FUNCTION ledger_check_posting_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_entry_is_balanced(NEW.entry_id);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ledger_check_entry_has_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_entry_is_balanced(NEW.id);
  RETURN NULL;
END $$;
"""

PG_TRIGGERS = {
    "ledger_entry": [
        (
            "ledger_entry_append_only",
            "BEFORE UPDATE OR DELETE ON ledger_entry FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change()",
        ),
        (
            "ledger_entry_has_postings",
            "AFTER INSERT ON ledger_entry DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION ledger_check_entry_has_postings()",
        ),
    ],
    "ledger_posting": [
        (
            "ledger_posting_append_only",
            "BEFORE UPDATE OR DELETE ON ledger_posting FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change()",
        ),
        (
            "ledger_posting_entry_balanced",
            "AFTER INSERT ON ledger_posting DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION ledger_check_posting_entry_balanced()",
        ),
    ],
    "ledger_dayseal": [
        (
            "ledger_dayseal_append_only",
            "BEFORE UPDATE OR DELETE ON ledger_dayseal FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change()",
        ),
    ],
}


def expected_triggers(vendor: str) -> set[str]:
    """The trigger names that must exist (and be enabled) on this database."""
    if vendor == "postgresql":
        return {name for triggers in PG_TRIGGERS.values() for name, _ in triggers}
    return {f"{table}_no_{op}" for table in APPEND_ONLY_TABLES for op in ("update", "delete")}


def install_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [PG_FUNCTIONS]
        for triggers in PG_TRIGGERS.values():
            for name, body in triggers:
                kind = "CONSTRAINT TRIGGER" if "DEFERRABLE" in body else "TRIGGER"
                statements.append(f"CREATE {kind} {name} {body}")
        return statements
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op.upper()} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'ledger: {op.upper()} on {table} is forbidden: the books are append-only'); END"
        for table in APPEND_ONLY_TABLES
        for op in ("update", "delete")
    ]


def uninstall_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = [
            f"DROP TRIGGER IF EXISTS {name} ON {table}"
            for table, triggers in PG_TRIGGERS.items()
            for name, _ in triggers
        ]
        statements.append(
            "DROP FUNCTION IF EXISTS ledger_forbid_change(), ledger_check_posting_entry_balanced(), "
            "ledger_check_entry_has_postings(), ledger_entry_is_balanced(uuid)"
        )
        return statements
    return [f"DROP TRIGGER IF EXISTS {name}" for name in sorted(expected_triggers(vendor))]


def active_triggers(connection) -> set[str]:
    """Names of the ledger's guard triggers that are present and enabled."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgrelid IN ('ledger_entry'::regclass, 'ledger_posting'::regclass, 'ledger_dayseal'::regclass)"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def reinstall(apps, schema_editor) -> None:
    """Migration step: put back any guard a table rebuild dropped.

    SQLite rebuilds a table for many ALTERs (Django copies it to a new table), and the new table has no
    triggers. Every migration that alters ledger_entry, ledger_posting or ledger_dayseal ends with
    ``migrations.RunPython(guards.reinstall, migrations.RunPython.noop)``.
    """
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        return  # ALTER TABLE keeps triggers on PostgreSQL
    for sql in install_sql(connection.vendor):
        schema_editor.execute(sql, params=None)


def refresh_functions(apps, schema_editor) -> None:
    """Migration step: replace the guard functions with their current versions (triggers stay)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FUNCTIONS, params=None)
