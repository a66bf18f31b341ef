"""Benchmark of reconciliation: 1,000,000 statement lines against 1,000,000 ledger entries, and the floor.

What it measures (issue 5), and why this way:

- **Ours**: import + match + settle through the project's own code paths, the functions the nightly job
  calls (``settlements.importing.import_file``, then ``settlements.reconciliation.reconcile_day`` for the
  gateway and then the bank), in a fresh child process so that its peak RSS (``ru_maxrss``) is the work's.
  Two shapes, each at 1,000,000 and 100,000 lines:
  - ``gateway``: the card gateway's settlement CSV (what a gateway really sends for a million card
    payments a day), 1,000 lines per payout batch, plus the bank's camt.053 with the batches' payout
    credits. Each line matches a card top-up (gateway clearing -> wallet) on our reference and the gross;
    each batch is settled (bank net + gateway fee -> gateway clearing gross) once its bank credit is there.
  - ``bank``: the bank's camt.053 (ISO 20022, what a bank sends), one credit per bank top-up, matched on
    the EndToEndId and the amount, then settled in one entry (bank -> bank clearing).
- **The floor**, on the same database copy and in the same round: the same file loaded with PostgreSQL
  COPY into a bare table (no index, no constraint), then one SQL join against the ledger's entries on the
  reference. The gateway CSV is loaded column by column (COPY's own CSV parser); the camt.053 file, which
  COPY cannot parse, is loaded one text line per row and the join extracts the EndToEndId with a regular
  expression (the generated file has one entry per line). No application can be faster than this.
- Every measurement starts from an identical copy (``CREATE DATABASE ... TEMPLATE``) of a base database
  that holds the ledger entries (loaded by SQL), and the rounds interleave ours and the floor (order
  alternating), because these machines are noisy.

Targets: ours <= 4x the floor, peak RSS <= 500 MB, and 100,000 lines in <= 1/8 of the 1,000,000-line time.
The issue sets them for 1,000,000 *statement* lines: the ``bank`` shape. The same verdicts are printed for the
``gateway`` shape, whose COPY floor no import that stores its lines can approach (``gateway_all_sql.sql``).

Run from the repository root: ``.venv/bin/python bench/reconcile.py`` (``--quick`` for a smoke run,
``--keep`` to reuse the base database and files of an earlier run with the same sizes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for path in (REPO_ROOT, BENCH_DIR):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from make_statements import amount_baisa, fee_baisa  # noqa: E402  (bench/ is on the path, see above)

HOST, PORT, USER = "127.0.0.1", 5432, "postgres"
#: ERIAL_BENCH_RECON_DB names the base database (the run copy is "<name>_run"): two people can measure at once.
BASE_DB = os.environ.get("ERIAL_BENCH_RECON_DB", "erial_bench_recon")
RUN_DB = f"{BASE_DB}_run"
OUT_DIR = REPO_ROOT / "var" / "bench" / "reconcile"
WALLETS = 10_000
WALLET_PREFIX = "recon-w"
BATCH_SIZE = 1_000  # card payments per gateway payout batch
BANK_ACCOUNT = "0312004567890011"

TARGET_VS_FLOOR = 4.0
TARGET_RSS_MB = 500.0
TARGET_LINEARITY = 1 / 8


@dataclass(frozen=True)
class Dataset:
    """One statement's worth of lines and the ledger entries they match: its own day and references."""

    shape: str  # "gateway" or "bank"
    lines: int
    day: dt.date
    offset: int  # references of this dataset are OT + hex(offset + n): no two datasets share one

    @property
    def name(self) -> str:
        return f"{self.shape}-{self.lines}"

    def reference(self, n: int) -> str:
        return f"OT{self.offset + n:012X}"

    def batch_id(self, batch: int) -> str:
        return f"B{self.day:%Y%m%d}-{batch:05d}"

    @property
    def statement_file(self) -> Path:
        return OUT_DIR / (f"{self.name}.csv" if self.shape == "gateway" else f"{self.name}.xml")

    @property
    def payout_file(self) -> Path:
        """The bank's camt.053 with the gateway's payout credits (gateway datasets only)."""
        return OUT_DIR / f"{self.name}-payouts.xml"


def datasets(big: int, small: int) -> list[Dataset]:
    return [
        Dataset("gateway", big, dt.date(2025, 1, 15), 0x1_0000_0000),
        Dataset("gateway", small, dt.date(2025, 1, 16), 0x2_0000_0000),
        Dataset("bank", big, dt.date(2025, 1, 17), 0x3_0000_0000),
        Dataset("bank", small, dt.date(2025, 1, 18), 0x4_0000_0000),
    ]


def say(name: str, value: float | int | str, unit: str = "") -> None:
    """One figure per line, ``name: value unit``, flushed so a long run shows progress."""
    if isinstance(value, float):
        value = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    print(f"{name}: {value}{' ' + unit if unit else ''}", flush=True)


def db_url(name: str) -> str:
    return f"postgres://{USER}@{HOST}:{PORT}/{name}"


def admin(sql: str) -> None:
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def setup_django(database: str) -> None:
    """Point Django at ``database`` with DEBUG off (DEBUG would keep every query in memory)."""
    os.environ["DATABASE_URL"] = db_url(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erial.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False


# --- statement files ------------------------------------------------------------------------------


def baisa_text(baisa: int) -> str:
    sign = "-" if baisa < 0 else ""
    whole, fraction = divmod(abs(baisa), 1000)
    return f"{sign}{whole}.{fraction:03d}"


def write_blocks(out: BinaryIO, rows: Iterable[str], block: int = 2000) -> None:
    buffer: list[str] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) == block:
            out.write("".join(buffer).encode())
            buffer.clear()
    out.write("".join(buffer).encode())


def gateway_rows(ds: Dataset) -> Iterator[str]:
    """The gateway CSV: a TXN per card payment, each batch closed by its BATCH payout row."""
    yield "record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency\n"
    day = ds.day.isoformat()
    for first in range(1, ds.lines + 1, BATCH_SIZE):
        batch_id = ds.batch_id(first // BATCH_SIZE + 1)
        gross_total = fee_total = 0
        for n in range(first, min(first + BATCH_SIZE, ds.lines + 1)):
            gross = amount_baisa(n)
            fee = fee_baisa(gross)
            gross_total, fee_total = gross_total + gross, fee_total + fee
            yield (
                f"TXN,{batch_id},{ds.reference(n)},gw{ds.offset + n:012d},{day},"
                f"{baisa_text(gross)},{baisa_text(fee)},{baisa_text(gross - fee)},OMR\n"
            )
        yield (
            f"BATCH,{batch_id},PAYOUT-{batch_id},,{day},"
            f"{baisa_text(gross_total)},{baisa_text(fee_total)},{baisa_text(gross_total - fee_total)},OMR\n"
        )


def payouts(ds: Dataset) -> Iterator[tuple[int, str, str]]:
    """(net baisa, reference, bank reference) of each batch's payout credit, as the bank books it."""
    for first in range(1, ds.lines + 1, BATCH_SIZE):
        batch_id = ds.batch_id(first // BATCH_SIZE + 1)
        net = sum((g := amount_baisa(n)) - fee_baisa(g) for n in range(first, min(first + BATCH_SIZE, ds.lines + 1)))
        yield net, f"PAYOUT-{batch_id}", f"BNK-P{first:010d}"


def bank_credits(ds: Dataset) -> Iterator[tuple[int, str, str]]:
    for n in range(1, ds.lines + 1):
        yield amount_baisa(n), ds.reference(n), f"BNK{ds.offset + n:013d}"


def write_camt053(out: BinaryIO, ds: Dataset, credits: Iterable[tuple[int, str, str]], statement_id: str) -> None:
    """One camt.053.001.08 statement (sequence 1) of booked credits, one ``Ntry`` per line of the file."""
    credits = list(credits) if not isinstance(credits, list) else credits
    day = ds.day.isoformat()
    closing = sum(baisa for baisa, _, _ in credits)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n<BkToCstmrStmt>\n'
        f"<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{day}T23:00:00+04:00</CreDtTm></GrpHdr>\n"
        f"<Stmt><Id>{statement_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb>\n"
        f"<Acct><Id><Othr><Id>{BANK_ACCOUNT}</Id></Othr></Id><Ccy>OMR</Ccy></Acct>\n"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">0.000</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="OMR">{baisa_text(closing)}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n"
    )
    entry = (
        '<Ntry><Amt Ccy="OMR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        "<AcctSvcrRef>{bank}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        "<NtryDtls><TxDtls><Refs><EndToEndId>{ref}</EndToEndId></Refs>"
        "<RmtInf><Ustrd>e-Rial top-up {ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )
    out.write(head.encode())
    write_blocks(out, (entry.format(amount=baisa_text(b), bank=bank, ref=ref) for b, ref, bank in credits))
    out.write(b"</Stmt>\n</BkToCstmrStmt>\n</Document>\n")


def write_files(sets: Sequence[Dataset]) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for ds in sets:
        started = time.monotonic()
        with ds.statement_file.open("wb", buffering=1 << 20) as out:
            if ds.shape == "gateway":
                write_blocks(out, gateway_rows(ds))
            else:
                write_camt053(out, ds, list(bank_credits(ds)), f"STMT-{ds.name}")
        if ds.shape == "gateway":
            with ds.payout_file.open("wb") as out:
                write_camt053(out, ds, list(payouts(ds)), f"PAYOUTS-{ds.name}")
        size = ds.statement_file.stat().st_size / 1e6
        say(f"file_{ds.name}", f"{ds.statement_file.name} {size:.0f} MB in {time.monotonic() - started:.1f} s")


# --- the base database: the ledger entries the lines match -----------------------------------------

# A UUIDv7 for an entry made at {t} with random hex {h} (like ledger.ids.uuid7): keys grow with time.
UUID7_SQL = (
    "(lpad(to_hex((extract(epoch FROM {t}) * 1000)::bigint), 12, '0') || '7' || substr({h}, 1, 3) || '8' "
    "|| substr({h}, 4, 15))::uuid"
)


def create_wallets() -> None:
    """Customer wallets as ``open_account`` shapes them (floor 0), through the models (defaults included)."""
    from decimal import Decimal

    from django.db import transaction

    from ledger.models import Account, AccountBalance

    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            Account(code=f"{WALLET_PREFIX}{n:06d}", name="Bench wallet", kind="liability", owner_kind="wallet",
                    tracks_balance=True)
            for n in range(1, WALLETS + 1)
        )  # fmt: skip
        AccountBalance.objects.bulk_create(
            AccountBalance(account=a, balance=Decimal("0.000"), floor=Decimal("0.000")) for a in accounts
        )


def load_topups(ds: Dataset) -> None:
    """The dataset's online top-ups as ``topups.services._credit`` posts them (clearing -> wallet, kind
    online_topup, the top-up's reference on the entry), written by SQL straight from generate_series.

    The per-row guard triggers are skipped for this bulk load only (session_replication_role: ~60 us per
    row, an hour for the whole base); the rules they enforce (two or more postings per entry, zero sum,
    cached balances = postings, no balance below its floor) are proved set-based by ``check_books``.
    The OnlineTopup rows and idempotency keys are not written: reconciliation reads neither.
    """
    from django.db import connection, transaction

    clearing = "gateway_clearing" if ds.shape == "gateway" else "bank_clearing"
    amount = "(((1 + g %% 500) * 1000 + (g * 7919) %% 1000)::numeric / 1000)::numeric(18,3)"
    params = {"n": ds.lines, "off": ds.offset, "day": ds.day, "w": WALLETS, "prefix": WALLET_PREFIX + "%"}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_w ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, id "
            "FROM ledger_account WHERE code LIKE %(prefix)s",
            params,
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_t ON COMMIT DROP AS "
            f"SELECT g, {UUID7_SQL.format(t='t', h='md5(%(off)s::text || g::text)')} AS id, t, "
            f"'OT' || lpad(upper(to_hex(%(off)s::bigint + g)), 12, '0') AS reference, {amount} AS amount, "
            "w.id AS wallet "
            "FROM (SELECT g, (%(day)s::date + time '08:00') AT TIME ZONE 'Asia/Muscat' + g * interval '40 ms' AS t "
            "      FROM generate_series(1::bigint, %(n)s) g) s "
            "JOIN bench_w w ON w.k = g %% %(w)s",
            params,
        )
        cursor.execute(
            "INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata, reference) "
            "SELECT id, 'online_topup', t, %(day)s, 'Online top-up ' || reference, '{}'::jsonb, reference "
            "FROM bench_t ORDER BY g",
            params,
        )
        cursor.execute(
            "INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, balance_after, created_at) "
            "SELECT id, account_id, amount, 'OMR', balance_after, t FROM ("
            "  SELECT g, 1 AS leg, id, (SELECT id FROM ledger_account WHERE code = %(clearing)s) AS account_id, "
            "         amount, NULL::numeric AS balance_after, t FROM bench_t "
            "  UNION ALL "
            "  SELECT g, 2, t.id, t.wallet, -t.amount, "
            "         b.balance + sum(t.amount) OVER (PARTITION BY t.wallet ORDER BY t.g), t.t "
            "  FROM bench_t t JOIN ledger_accountbalance b ON b.account_id = t.wallet) x ORDER BY g, leg",
            {**params, "clearing": clearing},
        )
        cursor.execute(
            "UPDATE ledger_accountbalance b SET balance = b.balance + s.total, updated_at = now() "
            "FROM (SELECT wallet, sum(amount) AS total FROM bench_t GROUP BY wallet) s WHERE b.account_id = s.wallet"
        )


def check_books() -> bool:
    """The ledger's own verify checks that the skipped triggers stand for, set-based."""
    from django.db import connection

    from ledger import verification

    findings = {
        "unbalanced_entries": verification.unbalanced_entries(),
        "cached_balances_differ": verification.cached_balances_differ(),
        "floors_broken": verification.floors_broken(),
        "guards_missing": verification.guards_missing(),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ledger_accountbalance b JOIN LATERAL (SELECT balance_after FROM ledger_posting p "
            "WHERE p.account_id = b.account_id ORDER BY created_at DESC, id DESC LIMIT 1) last ON true "
            "WHERE last.balance_after IS DISTINCT FROM b.balance"
        )
        findings["last_balance_after_differs"] = ["x"] * cursor.fetchone()[0]
    for name, problems in findings.items():
        say(f"check_{name}", len(problems))
        for problem in problems[:5]:
            print(f"  - {problem}")
    return not any(findings.values())


def build_base(sets: Sequence[Dataset]) -> None:
    from django.core.management import call_command
    from django.db import connection

    started = time.monotonic()
    admin(f'DROP DATABASE IF EXISTS "{RUN_DB}"')
    admin(f'DROP DATABASE IF EXISTS "{BASE_DB}"')
    admin(f'CREATE DATABASE "{BASE_DB}"')
    call_command("migrate", verbosity=0, interactive=False)
    create_wallets()
    for ds in sorted(sets, key=lambda d: d.day):  # in time order: each wallet's balance_after runs on
        load_topups(ds)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    ok = check_books()
    connection.close()
    say("base_entries", sum(ds.lines for ds in sets))
    say("base_books_consistent", "yes" if ok else "NO")
    say("base_seconds", time.monotonic() - started, "s")
    if not ok:
        raise SystemExit("the base database's books do not hold: no figures")


def fresh_copy() -> None:
    """The run database, an exact copy of the base (file copy: a WAL-logged copy of a GB is slower)."""
    admin(f'DROP DATABASE IF EXISTS "{RUN_DB}"')
    admin(f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{BASE_DB}" STRATEGY FILE_COPY')


# --- ours: a child process doing what the nightly job does ------------------------------------------


def ours(ds: Dataset) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", ds.shape, str(ds.lines), ds.day.isoformat(), str(ds.offset)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=3600,
    )
    if out.returncode != 0:
        raise SystemExit(f"ours failed for {ds.name}:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(ds: Dataset) -> dict[str, Any]:
    """Import + match + settle ``ds`` in this process (fresh), then say what came out of it."""
    setup_django(RUN_DB)
    from django.core.management import call_command
    from django.db.models import Count

    call_command("migrate", verbosity=0, interactive=False)  # a base built before a new migration

    from settlements.importing import import_file
    from settlements.models import GatewayBatch, Source, StatementLine
    from settlements.reconciliation import reconcile_day

    timings: dict[str, float] = {}
    started = time.perf_counter()
    if ds.shape == "gateway":
        import_file(ds.statement_file, source=Source.GATEWAY)
        import_file(ds.payout_file, source=Source.BANK)
        timings["import"] = time.perf_counter() - started
        gateway = reconcile_day(day=ds.day, source=Source.GATEWAY)
        timings["reconcile_gateway"] = time.perf_counter() - started - timings["import"]
        runs = [gateway, reconcile_day(day=ds.day, source=Source.BANK)]
    else:
        import_file(ds.statement_file, source=Source.BANK)
        timings["import"] = time.perf_counter() - started
        runs = [reconcile_day(day=ds.day, source=Source.BANK)]
    timings["total"] = time.perf_counter() - started
    statuses = dict(StatementLine.objects.values_list("status").annotate(n=Count("id")).order_by())
    unsettled = StatementLine.objects.filter(settled_entry__isnull=True).count()
    return {
        "seconds": timings,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "runs": [[r.source, r.status, r.matched, f"{r.settled_amount:.3f}", r.open_exceptions] for r in runs],
        "lines": statuses,
        "unsettled_lines": unsettled,
        "batches_settled": GatewayBatch.objects.filter(settlement_entry__isnull=False).count(),
    }


def ours_ok(ds: Dataset, result: dict[str, Any]) -> bool:
    """Every line matched and settled, no exception: otherwise the time is not the time of the work."""
    payout_lines = -(-ds.lines // BATCH_SIZE) if ds.shape == "gateway" else 0
    return (
        result["lines"] == {"matched": ds.lines + payout_lines}
        and result["unsettled_lines"] == 0
        and all(run[1] == "completed" and run[4] == 0 for run in result["runs"])
        and result["batches_settled"] == payout_lines
    )


# --- the floor: COPY into a bare table + one join ---------------------------------------------------


def floor(ds: Dataset) -> tuple[float, int]:
    """Seconds for COPY of the file into a bare table plus one join on the reference; matched rows."""
    with psycopg.connect(db_url(RUN_DB), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS floor_line")
        started = time.perf_counter()
        if ds.shape == "gateway":
            conn.execute(
                "CREATE TABLE floor_line (record_type text, batch_id text, reference text, partner_txn_id text, "
                "transaction_date date, gross numeric(18,3), fee numeric(18,3), net numeric(18,3), currency text)"
            )
            copy_sql = "COPY floor_line FROM STDIN (FORMAT csv, HEADER true)"
            join = "SELECT count(*) FROM floor_line l JOIN ledger_entry e ON e.reference = l.reference"
        else:
            conn.execute("CREATE TABLE floor_line (line text)")
            copy_sql = "COPY floor_line FROM STDIN (FORMAT text, DELIMITER E'\\x01')"
            join = (
                "SELECT count(*) FROM floor_line l JOIN ledger_entry e "
                "ON e.reference = substring(l.line FROM '<EndToEndId>([^<]+)</EndToEndId>')"
            )
        with conn.cursor() as cursor:
            with cursor.copy(copy_sql) as copy, ds.statement_file.open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    copy.write(chunk)
            matched = cursor.execute(join).fetchone()[0]
        seconds = time.perf_counter() - started
        conn.execute("DROP TABLE floor_line")
    return seconds, matched


# --- rounds ---------------------------------------------------------------------------------------


def run_rounds(sets: Sequence[Dataset], rounds: int, shapes: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {ds.name: [] for ds in sets}
    for round_no in range(1, rounds + 1):
        for ds in sets:
            if ds.shape not in shapes:
                continue
            fresh_copy()
            order = ("floor", "ours") if (round_no + ds.lines) % 2 else ("ours", "floor")
            row: dict[str, Any] = {"load_1m": os.getloadavg()[0]}
            for side in order:
                if side == "floor":
                    row["floor"], matched = floor(ds)
                    if matched != ds.lines:
                        raise SystemExit(f"the floor joined {matched} of {ds.lines} lines for {ds.name}")
                else:
                    row["ours"] = ours(ds)
                    if not ours_ok(ds, row["ours"]):
                        raise SystemExit(f"ours did not reconcile {ds.name} fully: {row['ours']}")
            ours_s = row["ours"]["seconds"]
            say(
                f"round{round_no}_{ds.name}",
                f"ours {ours_s['total']:.1f} s (import {ours_s['import']:.1f}) rss {row['ours']['rss_mb']:.0f} MB; "
                f"floor {row['floor']:.1f} s; ratio {ours_s['total'] / row['floor']:.2f}; order {'/'.join(order)}; "
                f"load {row['load_1m']:.1f}",
            )
            results[ds.name].append(row)
    admin(f'DROP DATABASE IF EXISTS "{RUN_DB}"')
    return results


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def summarize(sets: Sequence[Dataset], results: dict[str, list[dict[str, Any]]], shapes: Sequence[str]) -> None:
    for shape in shapes:
        big, small = (ds for ds in sets if ds.shape == shape)
        rows_big, rows_small = results[big.name], results[small.name]
        ours_big = statistics.median(r["ours"]["seconds"]["total"] for r in rows_big)
        ours_small = statistics.median(r["ours"]["seconds"]["total"] for r in rows_small)
        import_big = statistics.median(r["ours"]["seconds"]["import"] for r in rows_big)
        floor_big = statistics.median(r["floor"] for r in rows_big)
        floor_small = statistics.median(r["floor"] for r in rows_small)
        ratio = statistics.median(r["ours"]["seconds"]["total"] / r["floor"] for r in rows_big)
        ratio_small = statistics.median(r["ours"]["seconds"]["total"] / r["floor"] for r in rows_small)
        rss = max(r["ours"]["rss_mb"] for r in rows_big + rows_small)
        linear = ours_small / ours_big
        say(f"{shape}_ours_{big.lines}", ours_big, "s (median)")
        say(f"{shape}_ours_import_{big.lines}", import_big, "s (median)")
        say(f"{shape}_floor_{big.lines}", floor_big, "s (median)")
        say(f"{shape}_ours_{small.lines}", ours_small, "s (median)")
        say(f"{shape}_floor_{small.lines}", floor_small, "s (median)")
        say(
            f"{shape}_ratio_vs_floor_{big.lines}",
            f"{ratio:.2f} (target <= {TARGET_VS_FLOOR:g}) {verdict(ratio <= TARGET_VS_FLOOR)}",
        )
        say(f"{shape}_ratio_vs_floor_{small.lines}", f"{ratio_small:.2f}")
        say(f"{shape}_peak_rss", f"{rss:.0f} MB (target <= {TARGET_RSS_MB:g}) {verdict(rss <= TARGET_RSS_MB)}")
        say(
            f"{shape}_linearity_{small.lines}_vs_{big.lines}",
            f"{linear:.3f} (target <= {TARGET_LINEARITY:.3f}) {verdict(linear <= TARGET_LINEARITY)}",
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the big statement")
    parser.add_argument("--small", type=int, default=100_000, help="lines of the small statement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shapes", default="gateway,bank", help="gateway, bank or both (comma-separated)")
    parser.add_argument("--keep", action="store_true", help="reuse the base database and files of a run")
    parser.add_argument("--build-only", action="store_true", help="write the files and the base database, stop")
    parser.add_argument("--quick", action="store_true", help="20,000 and 2,000 lines, one round: a smoke run")
    parser.add_argument("--child", nargs=4, metavar=("SHAPE", "LINES", "DAY", "OFFSET"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        shape, lines, day, offset = args.child
        print(json.dumps(child(Dataset(shape, int(lines), dt.date.fromisoformat(day), int(offset)))))
        return 0
    if args.quick:
        args.lines, args.small, args.rounds = 20_000, 2_000, 1
    shapes = [s for s in args.shapes.split(",") if s]
    sets = datasets(args.lines, args.small)
    started = time.monotonic()
    say("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    say("machine", f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    say("settings", f"lines={args.lines} small={args.small} rounds={args.rounds} shapes={','.join(shapes)}")
    with psycopg.connect(db_url("postgres")) as conn:
        say("postgres", conn.execute("SHOW server_version").fetchone()[0])
    say("load_average_1m_at_start", os.getloadavg()[0])
    if not args.keep:
        write_files(sets)
        setup_django(BASE_DB)
        build_base(sets)
    if args.build_only:
        return 0
    results = run_rounds(sets, args.rounds, shapes)
    summarize(sets, results, shapes)
    say("load_average_1m_at_end", os.getloadavg()[0])
    say("seconds", time.monotonic() - started, "s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
