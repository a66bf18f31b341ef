"""Matching a day's statement lines to ledger entries on the reference: found as a set, written to each line once.

A million lines are a join, not a loop. The pairs (line, entry) are found by one ``CREATE TEMPORARY TABLE ...
AS SELECT`` (no line is written yet); the settlements that depend on them are posted; then each line is
written once, its status, matched entry and settlement entry together. Writing the match and then the
settlement in two UPDATEs would rewrite every line, and its index entries, twice.

While the pairs wait in the table, the lines still read ``unmatched``: every other step of the run that looks
at open lines or free entries must leave out the pending ones (``line_not_pending`` / ``entry_not_pending``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from erial.money import from_db
from ledger.models import Entry

from .models import LineStatus, Source

TABLE = "settlements_pending_match"
#: ``work_mem`` for the statements that hash a whole day's lines (see ``_room_to_hash``).
HASH_WORK_MEM = "256MB"


def find_reference_matches(
    day: dt.date, source: Source, *, kinds: tuple[str, ...], accounts: tuple[int, ...], amount_column: str
) -> int:
    """Pair the day's open lines whose reference names exactly one unmatched entry of the right kind with the
    same amount on the clearing (or bank) account. A reference on two lines matches neither; a bank credit
    of a gateway batch is left to the gateway leg. A gateway ``REFUND`` line carries the reference of the card
    payment it gives back: it is no second line of that reference (the payment still matches its top-up), and
    it matches no top-up itself (see ``reconciliation._explain_refund``). Returns how many pairs wait to be
    written.
    """
    kind_marks = ", ".join(["%s"] * len(kinds))
    account_marks = ", ".join(["%s"] * len(accounts))
    # A refund and the payment it gives back share the payment's reference (gateway only).
    refunds = "AND NOT d.is_reversal" if source == Source.GATEWAY else ""
    sql = f"""
        CREATE TEMPORARY TABLE {TABLE} AS
        SELECT l.id AS line_id, e.id AS entry_id, e.kind AS kind, l.amount AS amount, l.batch_id AS batch_id
        FROM settlements_statementline AS l
        JOIN ledger_entry AS e ON e.reference = l.reference
        JOIN ledger_posting AS p ON p.entry_id = e.id
        WHERE l.source = %s AND l.booking_date = %s AND l.status = %s AND l.reference <> ''
          AND e.kind IN ({kind_marks})
          AND p.account_id IN ({account_marks}) AND p.amount = l.{amount_column}
          AND NOT EXISTS (SELECT 1 FROM settlements_statementline AS d
                          WHERE d.reference = l.reference AND d.source = l.source AND d.id <> l.id
                            AND d.status <> %s {refunds})
          AND NOT EXISTS (SELECT 1 FROM settlements_statementline AS m WHERE m.matched_entry_id = e.id)
    """
    params = [
        source,
        connection.ops.adapt_datefield_value(day),
        LineStatus.UNMATCHED,
        *kinds,
        *accounts,
        LineStatus.EXCEPTION,
    ]
    if source == Source.GATEWAY:  # a refund pays no top-up: it gives one back
        sql += " AND NOT l.is_reversal"
    if source == Source.BANK:  # bank credits of gateway batches belong to the gateway leg
        # Two equalities, not ``l.reference IN (b.batch_id, b.payout_reference)``: an OR can use neither an
        # index nor a hash, and a million lines would each scan every batch.
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM settlements_gatewaybatch AS b WHERE b.batch_id = l.reference)"
            " AND NOT EXISTS (SELECT 1 FROM settlements_gatewaybatch AS b WHERE b.payout_reference = l.reference)"
        )
    # In the lines' order: the UPDATE that writes them then walks the table and its indexes front to back.
    # In the join's order it read and wrote pages at random, and a million lines outgrow the buffer cache:
    # every row a page miss.
    sql += " ORDER BY l.id"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        with _room_to_hash(cursor):
            cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {TABLE}")  # temporary tables are never analysed by autovacuum
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return cursor.fetchone()[0]


@contextmanager
def _room_to_hash(cursor) -> Iterator[None]:
    """On PostgreSQL, ``work_mem`` for one statement that hashes a day's lines (a million: ~100 MB) in one pass.

    With the default 4 MB the hash spills into batches: the pairing then takes twice as long, and the UPDATE
    that writes the pairs gets them batch by batch instead of in line order, so it walks the table and its
    indexes once per batch, at random once they outgrow the buffer cache. Restored right after the statement.
    """
    if connection.vendor != "postgresql":
        yield
        return
    cursor.execute("SELECT current_setting('work_mem')")
    previous = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('work_mem', %s, true)", [HASH_WORK_MEM])
    yield
    # Not in a ``finally``: after a failed statement the transaction takes no more commands, and its
    # rollback takes the local setting with it anyway.
    cursor.execute("SELECT set_config('work_mem', %s, true)", [previous])


def pending_total(kind: str) -> Decimal:
    """The amount of the pending lines matched to entries of ``kind`` (what a settlement of them moves)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sum(amount) FROM {TABLE} WHERE kind = %s", [kind])
        return from_db(cursor.fetchone()[0]) or Decimal("0.000")


def line_not_pending(lines: QuerySet) -> QuerySet:
    """``lines`` without the ones paired but not written yet (they still read ``unmatched``)."""
    return lines.extra(
        where=[f"NOT EXISTS (SELECT 1 FROM {TABLE} AS pm WHERE pm.line_id = settlements_statementline.id)"]
    )


def entry_not_pending(entries: QuerySet) -> QuerySet:
    """``entries`` (an outer ``Entry`` query) without those paired with a line not written yet."""
    return entries.extra(where=[f"NOT EXISTS (SELECT 1 FROM {TABLE} AS pm WHERE pm.entry_id = ledger_entry.id)"])


def write_matches(*, settlement_for_kind: dict[str, uuid.UUID] | None = None, batch_settlements: bool = False) -> int:
    """Write the pending pairs to their lines in one UPDATE, then drop the table.

    ``settlement_for_kind={kind: entry_id}``: lines matched to entries of ``kind`` are settled by that entry
    (the bank's one settlement of the day's top-ups, one of its offices' cash deposits). ``batch_settlements``:
    each gateway line is settled by its batch's settlement entry, if the batch was settled.
    """
    params: list[object] = [LineStatus.MATCHED]
    if settlement_for_kind:
        whens = " ".join("WHEN %s THEN %s" for _ in settlement_for_kind)
        settled = f"CASE pm.kind {whens} ELSE l.settled_entry_id END"
        for kind, entry_id in settlement_for_kind.items():
            params += [kind, Entry._meta.pk.get_db_prep_value(entry_id, connection)]
        joins = ""
    elif batch_settlements:
        settled = "COALESCE(b.settlement_entry_id, l.settled_entry_id)"
        joins = " LEFT JOIN settlements_gatewaybatch AS b ON b.batch_id = pm.batch_id AND pm.batch_id <> ''"
    else:
        settled = "l.settled_entry_id"
        joins = ""
    sql = (
        f"UPDATE settlements_statementline AS l SET status = %s, matched_entry_id = pm.entry_id, "
        f"settled_entry_id = {settled} FROM {TABLE} AS pm{joins} WHERE l.id = pm.line_id"
    )
    with connection.cursor() as cursor:
        with _room_to_hash(cursor):
            cursor.execute(sql, params)
            written = max(cursor.rowcount, 0)  # before the setting is given back (another statement)
        cursor.execute(f"DROP TABLE {TABLE}")
    return written


def batches_accounted_for(day: dt.date) -> list[int]:
    """Ids of the unsettled gateway batches of ``day`` or before whose every payment line is matched (written or
    pending) or resolved: the batches that may be settled now. A refund line does not hold its batch: the
    batch's totals already net it, and what it leaves open (the wallet) is its own exception.
    """
    sql = f"""
        SELECT b.id FROM settlements_gatewaybatch AS b
        WHERE b.settlement_entry_id IS NULL AND b.batch_date <= %s
          AND NOT EXISTS (SELECT 1 FROM settlements_statementline AS l
                          WHERE l.source = %s AND l.batch_id = b.batch_id AND l.status NOT IN (%s, %s)
                            AND NOT l.is_reversal
                            AND NOT EXISTS (SELECT 1 FROM {TABLE} AS pm WHERE pm.line_id = l.id))
    """
    params = [
        connection.ops.adapt_datefield_value(day),
        Source.GATEWAY,
        LineStatus.MATCHED,
        LineStatus.RESOLVED,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
