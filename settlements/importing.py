"""Importing statement files: all of a file or none of it.

A file is refused whole when it was imported before (content hash), is malformed (the parser names the
line or element and why), does not balance (opening + lines = closing), or breaks the statement sequence
(a gap or a repeat). Lines stream from the parser into the database in batches (COPY on PostgreSQL), so
memory stays flat however long the file (a gateway report's repeated ``partner_txn_id`` is found by the
database once the lines are stored, not by remembering every id).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from erial.errors import BusinessRefusal, InvalidRequest

from .models import FileFormat, GatewayBatch, LineStatus, Source, Statement, StatementFile, StatementLine
from .parsers import ParseError, read_statements

BATCH = 5000
LINE_COLUMNS = (
    "statement_id",
    "source",
    "position",
    "booking_date",
    "value_date",
    "amount",
    "reference",
    "bank_reference",
    "description",
    "is_reversal",
    "batch_id",
    "gross",
    "fee",
    "status",
)


class ImportRefused(BusinessRefusal):
    code, title = "import_refused", "Statement file refused"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_format(path: Path) -> FileFormat:
    """The format from the file's first bytes: XML (camt.053), ``:20:``-style tags (MT940), else CSV."""
    with path.open("rb") as stream:
        head = stream.read(4096).lstrip(b"\xef\xbb\xbf \r\n\t")
    if head.startswith(b"<"):
        return FileFormat.CAMT053
    if head.startswith((b":20:", b"{1:", b":940:")) or b"\n:20:" in head or b":25:" in head:
        return FileFormat.MT940
    if head.lower().startswith(b"record_type,"):
        return FileFormat.GATEWAY_CSV
    raise InvalidRequest(f"{path.name}: not a camt.053, MT940 or gateway settlement CSV file.")


def import_file(
    path: Path | str,
    *,
    source: Source | str | None = None,
    actor: AbstractBaseUser | None = None,
    progress: Callable[[int], Any] | None = None,
) -> StatementFile:
    """Import one statement file, or refuse it whole. ``progress(n)`` is told every ``BATCH`` lines.

    The record returned also carries ``booking_days`` (not stored): the sorted days its lines are booked on,
    which the nightly job reconciles (a file may hold lines of other days than yesterday).
    """
    path = Path(path)
    file_format = sniff_format(path)
    source = Source(source) if source else (Source.GATEWAY if file_format == FileFormat.GATEWAY_CSV else Source.BANK)
    digest = file_digest(path)
    previous = StatementFile.objects.filter(sha256=digest).first()
    if previous:
        raise ImportRefused(
            f"{path.name} was already imported on {previous.imported_at:%Y-%m-%d %H:%M} "
            f"(as {previous.file_name}); nothing was imported again."
        )
    booking_days: set[dt.date] = set()
    try:
        with transaction.atomic(), path.open("rb") as stream:
            record = StatementFile.objects.create(
                source=source, file_format=file_format, file_name=path.name[:255], sha256=digest, imported_by=actor
            )
            for parsed in read_statements(file_format.value, stream):
                statement = _start_statement(record, source, parsed.header)
                statement.line_count = _store_lines(statement, parsed.lines(), progress, booking_days)
                trailer = parsed.trailer
                statement.closing_balance, statement.closing_date = trailer.closing_balance, trailer.closing_date
                statement.save(update_fields=["line_count", "closing_balance", "closing_date"])
                _store_batches(statement, getattr(parsed, "batches", ()) or ())
                record.statement_count += 1
                record.line_count += statement.line_count
            if not record.statement_count:
                raise ImportRefused(f"{path.name} holds no statement.")
            if file_format == FileFormat.GATEWAY_CSV:
                _refuse_a_repeated_transaction(record)
            record.save(update_fields=["statement_count", "line_count"])
            _refresh_statistics()
    except ParseError as bad:
        raise ImportRefused(f"{path.name} refused, nothing imported: {bad}") from None
    except IntegrityError:
        raise ImportRefused(f"{path.name} repeats a statement or batch already imported; nothing imported.") from None
    record.booking_days = sorted(booking_days)
    return record


def _refresh_statistics() -> None:
    """Tell PostgreSQL's planner how many lines there now are. Without it, lines imported since autovacuum
    last looked count as none, and the matching plans nested loops where hash joins are needed: a
    million-line day then takes hours instead of seconds. (ANALYZE samples, so it costs well under a second.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE settlements_statementline, settlements_gatewaybatch")


def _start_statement(record: StatementFile, source: str, header) -> Statement:
    if header.sequence is not None:
        last = (
            Statement.objects.filter(source=source, account=header.account, sequence__isnull=False)
            .order_by("-sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        if last is not None and header.sequence != last + 1:
            what = "repeats" if header.sequence <= last else "skips"
            raise ImportRefused(
                f"Statement {header.statement_id} of account {header.account} has sequence {header.sequence}, "
                f"which {what} the sequence: the last imported is {last}, so {last + 1} is expected."
            )
    return Statement.objects.create(
        file=record,
        source=source,
        account=header.account,
        statement_id=header.statement_id,
        sequence=header.sequence,
        currency=header.currency,
        opening_balance=header.opening_balance,
        opening_date=header.opening_date,
    )


def _rows(statement: Statement, lines: Iterable, booking_days: set[dt.date]) -> Iterator[tuple]:
    seen = booking_days.add
    for line in lines:
        seen(line.booking_date)
        yield (
            statement.pk,
            statement.source,
            line.position[:64],
            line.booking_date,
            line.value_date,
            line.amount,
            line.reference[:64],
            line.bank_reference[:64],
            line.description[:255],
            line.is_reversal,
            line.batch_id[:64],
            line.gross,
            line.fee,
            LineStatus.UNMATCHED.value,
        )


def _store_lines(
    statement: Statement, lines: Iterable, progress: Callable[[int], Any] | None, booking_days: set[dt.date]
) -> int:
    count = 0
    table = "settlements_statementline"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN") as copy:
                for row in _rows(statement, lines, booking_days):
                    copy.write_row(row)
                    count += 1
                    if progress and count % BATCH == 0:
                        progress(BATCH)
        else:
            sql = f"INSERT INTO {table} ({', '.join(LINE_COLUMNS)}) VALUES ({', '.join(['%s'] * len(LINE_COLUMNS))})"
            batch: list[tuple] = []
            for row in _rows(statement, lines, booking_days):
                batch.append(_sqlite_row(row))
                if len(batch) == BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
                    if progress:
                        progress(BATCH)
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    if progress and count % BATCH:
        progress(count % BATCH)
    return count


def _refuse_a_repeated_transaction(record: StatementFile) -> None:
    """A gateway report naming one ``partner_txn_id`` on two rows reported one transaction twice: refused, with
    both lines. Asked of the database (one grouped scan of the file's lines, inside the import's transaction),
    so the parser's memory stays flat however long the file."""
    lines = StatementLine.objects.filter(statement__file=record).exclude(bank_reference="")
    repeated = (
        lines.values("bank_reference").annotate(rows=Count("id")).filter(rows__gt=1).values_list("bank_reference")
    )[:1]
    if not repeated:
        return
    partner_txn_id = repeated[0][0]
    first, second = lines.filter(bank_reference=partner_txn_id).order_by("id").values_list("position", flat=True)[:2]
    raise ParseError(
        second, f"partner_txn_id {partner_txn_id!r} repeats {first} of the report: one transaction reported twice"
    )


def _sqlite_row(row: tuple) -> tuple:
    ops = connection.ops
    values = list(row)
    for index in (3, 4):
        values[index] = ops.adapt_datefield_value(values[index])
    for index in (5, 11, 12):
        values[index] = ops.adapt_decimalfield_value(values[index], 18, 3)
    return tuple(values)


def _store_batches(statement: Statement, batches: Iterable) -> None:
    GatewayBatch.objects.bulk_create(
        GatewayBatch(
            statement=statement,
            batch_id=b.batch_id,
            payout_reference=b.reference[:64],
            batch_date=b.batch_date,
            gross=b.gross,
            fee=b.fee,
            net=b.net,
        )
        for b in batches
    )
