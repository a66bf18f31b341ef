"""``post()`` on PostgreSQL as one database call: ``ledger_post(...)``.

Why: a post through Django costs a round trip per statement (claim, lock, write, COMMIT) and most of its
Python CPU is spent around those round trips (bench/RESULTS.md). One call in autocommit is one round trip,
no BEGIN and no COMMIT of its own. The rules are the same as the Python path SQLite takes in
``ledger/services.py`` (``_check_floors`` and ``_write``), and the one test suite runs on both backends.

Order inside the call, and why it is safe:
1. lock the cached balances of the accounts touched, in id order (no deadlocks; hot accounts have no
   balance row and are never locked), and check each against its floor and its active flag;
2. a refusal writes nothing and returns the reason, unless the key was used already, in which case the
   earlier entry is replayed (a retry after the money was spent is a replay, not a refusal: a retry of
   the same request locks the same accounts, so it waits for the first to commit before it looks);
3. claim the idempotency key (a concurrent claimer of the same key waits on the unique index);
4. stamp the entry with the application's clock (``p_now``, so tests and back-dated tools see one clock),
   moved just past the last posting of any locked account if that is later: per tracked account, time
   order is then the order balances changed, even if a post waited on a lock or the clock stepped back;
   then write the entry, its postings with the balances after, and the new balances.

A refusal is a returned row, never a raised error, so a post nested in a caller's transaction leaves
that transaction usable, with no savepoint needed. ``p_scope`` NULL means the key is already claimed
(``reverse()`` claims it before it chooses its legs under the original's lock).
"""

from __future__ import annotations

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION ledger_post(
  p_scope varchar, p_key varchar, p_fingerprint varchar, p_entry uuid, p_kind varchar, p_memo varchar,
  p_metadata jsonb, p_actor integer, p_reverses uuid, p_reference varchar, p_now timestamptz, p_zone text,
  p_currency varchar, p_accounts bigint[], p_amounts numeric[]
) RETURNS TABLE (
  outcome text, stamped timestamptz, account_ids bigint[], balances numeric[],
  account_code varchar, owner_kind varchar, current_balance numeric, balance_floor numeric, needed numeric,
  stored_fingerprint varchar, stored_entry uuid
) LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_after numeric(18, 3);
  v_now timestamptz;
BEGIN
  account_ids := '{}';
  balances := '{}';
  FOR r IN
    SELECT b.account_id, b.balance, b.floor, b.active, a.kind, a.owner_kind, a.code, l.amount
      FROM ledger_accountbalance b
      JOIN ledger_account a ON a.id = b.account_id
      JOIN unnest(p_accounts, p_amounts) AS l(account_id, amount) ON l.account_id = b.account_id
     ORDER BY b.account_id
       FOR UPDATE OF b
  LOOP
    v_after := r.balance + CASE WHEN r.kind IN ('asset', 'expense') THEN r.amount ELSE -r.amount END;
    IF NOT r.active THEN
      outcome := 'inactive';
    ELSIF r.floor IS NOT NULL AND v_after < r.floor AND v_after < r.balance THEN
      outcome := 'below_floor';
    END IF;
    IF outcome IS NOT NULL THEN
      account_code := r.code;
      owner_kind := r.owner_kind;
      current_balance := r.balance;
      balance_floor := r.floor;
      needed := r.balance - v_after;
      IF p_scope IS NOT NULL THEN
        SELECT k.fingerprint, k.entry_id INTO stored_fingerprint, stored_entry
          FROM ledger_idempotencykey k WHERE k.scope = p_scope AND k.key = p_key;
        IF FOUND THEN
          outcome := 'replay';
        END IF;
      END IF;
      RETURN NEXT;
      RETURN;
    END IF;
    account_ids := account_ids || r.account_id;
    balances := balances || v_after;
  END LOOP;

  IF p_scope IS NOT NULL THEN
    INSERT INTO ledger_idempotencykey (scope, key, fingerprint, entry_id, created_at)
      VALUES (p_scope, p_key, p_fingerprint, p_entry, clock_timestamp())
      ON CONFLICT (scope, key) DO NOTHING;
    IF NOT FOUND THEN
      SELECT k.fingerprint, k.entry_id INTO stored_fingerprint, stored_entry
        FROM ledger_idempotencykey k WHERE k.scope = p_scope AND k.key = p_key;
      outcome := 'replay';
      RETURN NEXT;
      RETURN;
    END IF;
  END IF;

  SELECT max(last.created_at) INTO v_now
    FROM unnest(account_ids) AS t(id)
    CROSS JOIN LATERAL (SELECT p.created_at FROM ledger_posting p WHERE p.account_id = t.id
                         ORDER BY p.created_at DESC LIMIT 1) AS last;
  v_now := CASE WHEN v_now IS NULL OR v_now < p_now THEN p_now ELSE v_now + interval '1 microsecond' END;
  INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata, actor_id, reverses_id, reference)
    VALUES (p_entry, p_kind, v_now, (v_now AT TIME ZONE p_zone)::date, p_memo, p_metadata, p_actor, p_reverses,
            p_reference);
  INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, balance_after, created_at)
    SELECT p_entry, l.account_id, l.amount, p_currency, nb.balance, v_now
      FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS l(account_id, amount, n)
      LEFT JOIN unnest(account_ids, balances) AS nb(account_id, balance) ON nb.account_id = l.account_id
     ORDER BY l.n;
  IF cardinality(account_ids) > 0 THEN
    UPDATE ledger_accountbalance ab SET balance = nb.balance, updated_at = v_now
      FROM unnest(account_ids, balances) AS nb(account_id, balance)
     WHERE ab.account_id = nb.account_id;
  END IF;
  outcome := 'posted';
  stamped := v_now;
  RETURN NEXT;
END $$;
"""

DROP_SQL = (
    "DROP FUNCTION IF EXISTS ledger_post(varchar, varchar, varchar, uuid, varchar, varchar, jsonb, integer, uuid, "
    "varchar, timestamptz, text, varchar, bigint[], numeric[])"
)

CALL_SQL = (
    "SELECT outcome, stamped, account_ids, balances, account_code, owner_kind, current_balance, balance_floor, "
    "needed, stored_fingerprint, stored_entry FROM ledger_post(%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, "
    "%s, %s::bigint[], %s::numeric[])"
)


def install(apps, schema_editor) -> None:
    """Create or replace the function (PostgreSQL only; SQLite takes the Python path)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)  # a changed result type cannot be replaced in place
        schema_editor.execute(FUNCTION_SQL)


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)
