-- The gateway settlement CSV imported entirely in SQL: how close can any import that keeps the lines get
-- to the floor? (issue 5; see bench/RESULTS.md, "Gateway CSV: an import in SQL alone")
--
-- Run on a copy of the reconciliation base (bench/reconcile.py --build-only writes both):
--   createdb -h 127.0.0.1 -U postgres -T erial_recon -S FILE_COPY erial_sqlproto
--   CSV="$PWD/var/bench/reconcile/gateway-1000000.csv" psql -h 127.0.0.1 -U postgres -d erial_sqlproto \
--        -v clearing="$(psql -h 127.0.0.1 -U postgres -d erial_sqlproto -Atc "SELECT id FROM ledger_account WHERE code = 'gateway_clearing'")" \
--        -f bench/gateway_all_sql.sql
--   dropdb -h 127.0.0.1 -U postgres erial_sqlproto
--
-- Every step prints its time (\timing). The import runs in a transaction that is rolled back, so the script
-- can run again on the same copy. No Python: COPY's own CSV parser, set-based checks, one INSERT ... SELECT.
\set ON_ERROR_STOP on
\timing on

\echo '== floor: COPY into a bare typed table + one join on the reference (as bench/reconcile.py)'
CREATE TEMP TABLE floor_line (record_type text, batch_id text, reference text, partner_txn_id text,
  transaction_date date, gross numeric(18,3), fee numeric(18,3), net numeric(18,3), currency text);
\copy floor_line FROM PROGRAM 'cat "$CSV"' WITH (FORMAT csv, HEADER true)
SELECT count(*) AS floor_matched FROM floor_line l JOIN ledger_entry e ON e.reference = l.reference;
DROP TABLE floor_line;

BEGIN;
\echo '== 1. COPY into a staging table, text columns, numbered rows'
CREATE TEMP TABLE stage (record_type text, batch_id text, reference text, partner_txn_id text,
  transaction_date text, gross text, fee text, net text, currency text, n bigint GENERATED ALWAYS AS IDENTITY);
\copy stage (record_type, batch_id, reference, partner_txn_id, transaction_date, gross, fee, net, currency) FROM PROGRAM 'cat "$CSV"' WITH (FORMAT csv, HEADER true)

\echo '== 2. row checks, one pass (the first bad row, if any)'
SELECT min(n) AS first_bad_row FROM stage WHERE NOT (
  record_type IN ('TXN', 'REFUND', 'BATCH') AND batch_id <> '' AND currency = 'OMR'
  AND transaction_date ~ '^\d{4}-\d{2}-\d{2}$'
  AND gross ~ '^-?\d{1,15}(\.\d{1,3})?$' AND fee ~ '^-?\d{1,15}(\.\d{1,3})?$' AND net ~ '^-?\d{1,15}(\.\d{1,3})?$'
  AND net::numeric = gross::numeric - fee::numeric
  AND CASE record_type WHEN 'TXN' THEN gross::numeric > 0 AND fee::numeric >= 0
                       WHEN 'REFUND' THEN gross::numeric < 0 ELSE true END);

\echo '== 3. batch checks: one BATCH per batch, after its rows, totals equal'
SELECT count(*) AS bad_batches FROM (
  SELECT count(*) FILTER (WHERE record_type = 'BATCH') AS payouts,
         max(n) FILTER (WHERE record_type = 'BATCH') AS payout_row, max(n) FILTER (WHERE record_type <> 'BATCH') AS last_row,
         sum(gross::numeric) FILTER (WHERE record_type <> 'BATCH') AS gross, sum(fee::numeric) FILTER (WHERE record_type <> 'BATCH') AS fee,
         max(gross::numeric) FILTER (WHERE record_type = 'BATCH') AS paid_gross, max(fee::numeric) FILTER (WHERE record_type = 'BATCH') AS paid_fee
  FROM stage GROUP BY batch_id) AS b
WHERE payouts <> 1 OR last_row > payout_row OR last_row IS NULL OR gross <> paid_gross OR fee <> paid_fee;

\echo '== 4. references repeated in the file (matched by none)'
SELECT count(*) AS repeated_references FROM (
  SELECT reference FROM stage WHERE record_type <> 'BATCH' GROUP BY reference HAVING count(*) > 1) AS d;

\echo '== 5a. the lines stored, not paired: the storing alone (undone by a savepoint)'
SET LOCAL work_mem = '256MB';
SAVEPOINT store_only;
INSERT INTO settlements_statementline (statement_id, source, position, booking_date, value_date, amount, reference,
  bank_reference, description, is_reversal, batch_id, gross, fee, status)
SELECT 0, 'gateway', 'line ' || (s.n + 1), s.transaction_date::date, NULL, s.net::numeric, s.reference, s.partner_txn_id,
  CASE s.record_type WHEN 'TXN' THEN 'card payment' ELSE 'card refund' END, s.record_type = 'REFUND', s.batch_id,
  s.gross::numeric, s.fee::numeric, 'unmatched'
FROM stage AS s WHERE s.record_type <> 'BATCH' ORDER BY s.n;
ROLLBACK TO SAVEPOINT store_only;

\echo '== 5. the lines stored once, already paired with their entries (no UPDATE afterwards)'
INSERT INTO settlements_statementline (statement_id, source, position, booking_date, value_date, amount, reference,
  bank_reference, description, is_reversal, batch_id, gross, fee, status, matched_entry_id)
SELECT 0, 'gateway', 'line ' || (s.n + 1), s.transaction_date::date, NULL, s.net::numeric, s.reference, s.partner_txn_id,
  CASE s.record_type WHEN 'TXN' THEN 'card payment' ELSE 'card refund' END, s.record_type = 'REFUND', s.batch_id,
  s.gross::numeric, s.fee::numeric, CASE WHEN m.entry_id IS NULL THEN 'unmatched' ELSE 'matched' END, m.entry_id
FROM stage AS s LEFT JOIN (
  SELECT e.reference, e.id AS entry_id, p.amount FROM ledger_entry AS e JOIN ledger_posting AS p ON p.entry_id = e.id
  WHERE e.kind = 'online_topup' AND p.account_id = :clearing AND e.reference IN (SELECT reference FROM stage)
) AS m ON m.reference = s.reference AND m.amount = s.gross::numeric
WHERE s.record_type <> 'BATCH' ORDER BY s.n;
ROLLBACK;
