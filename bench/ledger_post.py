"""Benchmark of the ledger's one write path, ``ledger.services.post()``, against the pure-SQL ceiling.

What it measures, and why this way (design.md §3 "Hot accounts", §6; ../shared/bench/README.md):

- Fee-payment-shaped ``post()`` calls per second (wallet debit, revenue credit, fee-income credit,
  a fresh idempotency key each) from 1, 4 and 16 worker *processes*, each with its own connection, on a
  dedicated PostgreSQL database that starts from a history of past payments (never from empty tables:
  the foreign-key check plans would be sequential scans). Two shapes: "spread" credits one of the five
  revenue accounts at random, "hot" always the same one. Hot accounts are never locked, so "hot" must be
  as fast as "spread".
- In the same run, interleaved with ours (these machines are noisy, ±25 % between minutes), the shared
  pgbench reference (fee_cold.pgbench and fee_hot.pgbench on its own database loaded by fee_schema.sql):
  no application can beat plain SQL, so the ratio to it is the figure that holds from machine to machine.
  Both sides also report CPU per payment (client process + PostgreSQL backend, from /proc): at 4 workers
  on 2 cores throughput is CPU-bound, and CPU per payment shows where the time goes even when the
  neighbours' load makes throughput swing.
- ``ledger.selectors.balance()`` now and ``as_of=`` on a wallet with 1,000,000 postings vs one with 10:
  a read must not grow with history.
- Finally, that the run left consistent books (entries balance, cached balances equal postings) and that
  the number of posts counted equals the number of idempotency keys written.

Run from the repository root: ``.venv/bin/python bench/ledger_post.py`` (``--quick`` for a smoke run).
Prints ``figure: value`` lines, then the ratios against the targets (PASS / MISS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import queue
import random
import re
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script from bench/: make erial and ledger importable
    sys.path.insert(0, str(REPO_ROOT))

HOST, PORT, USER = "127.0.0.1", 5432, "postgres"
BENCH_DB = "erial_bench"
REF_DB = "bench_fee"
SERVICES = ("lease_renewal", "parking_fine", "parking_permit", "municipal_licence", "building_permit")
HOT_SERVICE = SERVICES[0]
FEE = Decimal("0.100")
POST_SCOPE = "bench.fee"
WALLET_PREFIX = "bench-w"
TOPUP = Decimal("1000000.000")  # per wallet: enough that no payment in the run is refused
MODES = ("spread", "hot")
REF_SCRIPTS = {"spread": "fee_cold.pgbench", "hot": "fee_hot.pgbench"}

# Targets from the issue.
TARGET_VS_CEILING_AT_4 = 0.4
TARGET_16_VS_4 = 0.8
# "Hot as fast as spread": equal within the noise of back-to-back measurements (our reading of "as fast").
TARGET_HOT_VS_SPREAD = 0.9


def db_url(name: str) -> str:
    return f"postgres://{USER}@{HOST}:{PORT}/{name}"


# --- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    seconds: int
    rounds: int
    clients: tuple[int, ...]
    wallets: int
    history: int
    warmup: int
    shared: Path
    skip_balance_read: bool
    big_postings: int
    small_postings: int
    reads: int


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, help="duration of each measurement in seconds (default 10)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds, ours then reference (default 3)")
    parser.add_argument("--clients", help="comma-separated worker counts (default 1,4,16)")
    parser.add_argument("--wallets", type=int, help="customer wallets (default 10000)")
    parser.add_argument("--history", type=int, help="past payments loaded before the run (default 50000)")
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "bench")
    parser.add_argument("--skip-balance-read", action="store_true")
    parser.add_argument("--quick", action="store_true", help="small and fast: a smoke run, not figures")
    args = parser.parse_args(argv)
    quick = args.quick
    clients = args.clients or ("1,4" if quick else "1,4,16")
    return Config(
        seconds=args.seconds or (2 if quick else 10),
        rounds=args.rounds or (1 if quick else 3),
        clients=tuple(int(c) for c in clients.split(",")),
        wallets=args.wallets or (500 if quick else 10_000),
        history=args.history or (2_000 if quick else 50_000),
        warmup=5 if quick else 25,
        shared=args.shared.resolve(),
        skip_balance_read=args.skip_balance_read,
        big_postings=20_000 if quick else 1_000_000,
        small_postings=10,
        reads=50 if quick else 500,
    )


def say(name: str, value: float | int | str, unit: str = "") -> None:
    """One figure per line, ``name: value unit``, flushed so a long run shows progress."""
    if isinstance(value, float):
        value = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    print(f"{name}: {value}{' ' + unit if unit else ''}", flush=True)


# --- databases ------------------------------------------------------------------------------------


def admin(sql: str) -> None:
    """Run one statement on the maintenance database (CREATE/DROP DATABASE cannot run in a transaction)."""
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def recreate_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}"')
    admin(f'CREATE DATABASE "{name}"')


def setup_django(database: str) -> None:
    """Point Django at the bench database, with DEBUG off as in production.

    With DEBUG on, Django also logs every query in memory (CursorDebugWrapper), which is not what
    production pays. It is switched off after setup, so that the settings' DEBUG-off requirements
    (real secrets) need no fake values here.
    """
    os.environ["DATABASE_URL"] = db_url(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erial.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False


def load_reference(cfg: Config) -> None:
    """The reference database, exactly as ../shared/bench/README.md loads it."""
    recreate_database(REF_DB)
    schema = str(cfg.shared / "fee_schema.sql")
    subprocess.run(
        [*psql_args(REF_DB), "-q", "-v", f"wallets={cfg.wallets}", "-v", f"history={cfg.history}", "-f", schema],
        check=True,
        timeout=600,
    )


def psql_args(database: str) -> list[str]:
    return ["psql", "-h", HOST, "-p", str(PORT), "-U", USER, "-d", database, "-X"]


# --- set-based history (SQL) ----------------------------------------------------------------------
# Loaders fill the temporary table bench_leg with the legs of past entries (one seq per entry); one
# function turns it into entries, postings (balance_after on tracked accounts), idempotency keys and
# cached balances, so the books are exactly what post() would have written, minus the Python.

LEG_TABLE = """
CREATE TEMPORARY TABLE bench_leg (
  seq bigint NOT NULL, kind varchar(24) NOT NULL, created_at timestamptz NOT NULL,
  account_id bigint NOT NULL, amount numeric(18,3) NOT NULL, leg smallint NOT NULL
) ON COMMIT DROP
"""

# A UUIDv7 for an entry made at {t} with random hex {h} (like ledger.ids.uuid7): keys grow with time.
UUID7_SQL = (
    "(lpad(to_hex((extract(epoch FROM {t}) * 1000)::bigint), 12, '0') || '7' || substr({h}, 1, 3) || '8' "
    "|| substr({h}, 4, 15))::uuid"
)

MATERIALIZE = [
    f"""
    CREATE TEMPORARY TABLE bench_entry ON COMMIT DROP AS
    SELECT seq, kind, created_at, {UUID7_SQL.format(t="created_at", h="h")} AS id
    FROM (SELECT DISTINCT ON (seq) seq, kind, created_at, md5(random()::text || seq::text) AS h
          FROM bench_leg ORDER BY seq) s
    """,
    """
    INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata)
    SELECT id, kind, created_at, (created_at AT TIME ZONE 'Asia/Muscat')::date, '', '{}'::jsonb
    FROM bench_entry ORDER BY seq
    """,
    # balance_after (normal sign) for tracked accounts: the cached balance before plus the running sum.
    """
    INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, balance_after, created_at)
    SELECT e.id, l.account_id, l.amount, 'OMR',
           CASE WHEN a.tracks_balance THEN b.balance + s.sign * sum(l.amount)
                OVER (PARTITION BY l.account_id ORDER BY l.seq) END,
           l.created_at
    FROM bench_leg l
    JOIN bench_entry e USING (seq)
    JOIN ledger_account a ON a.id = l.account_id
    CROSS JOIN LATERAL (SELECT CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS sign) s
    LEFT JOIN ledger_accountbalance b ON b.account_id = l.account_id
    ORDER BY l.seq, l.leg
    """,
    """
    INSERT INTO ledger_idempotencykey (scope, key, fingerprint, entry_id, created_at)
    SELECT 'bench.history', id::text, encode(sha256(id::text::bytea), 'hex'), id, created_at FROM bench_entry
    """,
    """
    UPDATE ledger_accountbalance b
    SET balance = b.balance + t.delta, updated_at = now()
    FROM (SELECT l.account_id, sum(l.amount) * CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS delta
          FROM bench_leg l JOIN ledger_account a ON a.id = l.account_id
          GROUP BY l.account_id, a.kind) t
    WHERE b.account_id = t.account_id
    """,
]


def materialize_legs(fill: Callable[[Any], None]) -> None:
    """One transaction: ``fill(cursor)`` writes bench_leg, then entries, postings, keys, balances follow.

    The ledger's deferred guards (zero-sum, two postings per entry) and FK checks run at this commit.
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LEG_TABLE)
        fill(cursor)
        for sql in MATERIALIZE:
            cursor.execute(sql)


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ledger_account, ledger_accountbalance, ledger_entry, ledger_posting")
        cursor.execute("VACUUM ANALYZE ledger_idempotencykey")


def create_wallets(count: int) -> None:
    """``count`` customer wallets shaped as ``services.open_account`` makes them (floor 0), in two bulk
    inserts through the models, so any field the models add later gets its default."""
    from django.db import transaction

    from ledger.models import Account, AccountBalance

    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            Account(code=f"{WALLET_PREFIX}{n:06d}", name="Bench wallet", kind="liability", owner_kind="wallet",
                    tracks_balance=True)
            for n in range(1, count + 1)
        )  # fmt: skip
        AccountBalance.objects.bulk_create(
            AccountBalance(account=account, balance=Decimal("0.000"), floor=Decimal("0.000")) for account in accounts
        )


def load_payment_history(wallets: int, history: int) -> None:
    """A top-up for every wallet, then ``history`` past fee payments spread over 30 days and 5 services."""

    def fill(cursor: Any) -> None:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_w ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY id) AS n, id "
            "FROM ledger_account WHERE code LIKE %s",
            [WALLET_PREFIX + "%"],
        )
        cursor.execute(
            "INSERT INTO bench_leg SELECT w.n, 'cash_topup', now() - interval '31 days' + w.n * interval '1 ms', "
            "x.account_id, x.amount, x.leg FROM bench_w w, ledger_account bc, "
            "LATERAL (VALUES (bc.id, %s::numeric, 1), (w.id, -%s::numeric, 2)) x(account_id, amount, leg) "
            "WHERE bc.code = 'bank_clearing'",
            [TOPUP, TOPUP],
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_rev ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY code) - 1 AS n, "
            "id FROM ledger_account WHERE code = ANY(%s)",
            [[f"revenue.{s}" for s in SERVICES]],
        )
        cursor.execute(
            "INSERT INTO bench_leg "
            "SELECT %(w)s + g, 'fee_payment', now() - interval '30 days' + g * (interval '30 days' / %(h)s), "
            "x.account_id, x.amount, x.leg "
            "FROM generate_series(1::bigint, %(h)s) g "
            "CROSS JOIN LATERAL (SELECT 1 + (g * 7919) %% %(w)s AS wn, (1000 + (g * 104729) %% 99001) / 1000.0 AS amt,"
            " g %% 5 AS rn) r "
            "JOIN bench_w w ON w.n = r.wn JOIN bench_rev rv ON rv.n = r.rn "
            "CROSS JOIN (SELECT id FROM ledger_account WHERE code = 'fee_income') f "
            "CROSS JOIN LATERAL (VALUES (w.id, r.amt + %(fee)s, 1), (rv.id, -r.amt, 2), (f.id, -%(fee)s, 3)) "
            "x(account_id, amount, leg)",
            {"w": wallets, "h": history, "fee": FEE},
        )

    materialize_legs(fill)


def load_wallet_postings(account_id: int, count: int) -> None:
    """``count`` postings on one fresh wallet over the past year, written straight from generate_series.

    Each entry pairs the wallet with bank_clearing: a 2.000 top-up (odd g), then a 1.000 payout (even g),
    so the balance after entry g has a closed form (2*ceil(g/2) - floor(g/2)) and never dips below the
    floor: no temporary table, no sort, no window over a million rows. The per-row guard triggers are
    skipped for this one load (session_replication_role, ~60 us per posting: minutes for a million);
    the same rules (two or more postings, zero sum, cached balance = postings) are then proved
    set-based by ``check_consistency`` at the end of the run. No idempotency keys: no read touches them.
    """
    from django.db import connection, transaction

    entry_id = UUID7_SQL.format(t="t", h="md5(%(a)s::text || ':' || g::text)")
    series = (
        "(SELECT g, now() - interval '365 days' + g * (interval '364 days' / %(n)s) AS t "
        "FROM generate_series(1::bigint, %(n)s) g) s"
    )
    params = {"n": count, "a": account_id}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata) "
            f"SELECT {entry_id}, CASE WHEN g %% 2 = 1 THEN 'cash_topup' ELSE 'payout' END, t, "
            f"(t AT TIME ZONE 'Asia/Muscat')::date, '', '{{}}'::jsonb FROM {series}",
            params,
        )
        cursor.execute(
            "INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, balance_after, created_at) "
            f"SELECT {entry_id}, x.account_id, x.amount, 'OMR', x.balance_after, t FROM {series} "
            "CROSS JOIN LATERAL (SELECT CASE WHEN g %% 2 = 1 THEN 2.000 ELSE -1.000 END AS credit) c "
            "CROSS JOIN (SELECT id FROM ledger_account WHERE code = 'bank_clearing') bc "
            "CROSS JOIN LATERAL (VALUES (bc.id, c.credit, NULL), "
            "(%(a)s, -c.credit, 2 * ((g + 1) / 2) - g / 2)) x(account_id, amount, balance_after)",
            params,
        )
        cursor.execute(
            "UPDATE ledger_accountbalance SET balance = 2 * ((%(n)s + 1) / 2) - %(n)s / 2, updated_at = now() "
            "WHERE account_id = %(a)s",
            params,
        )


def prepare_bench_database(cfg: Config) -> None:
    """Fresh database, migrations, wallets, history of past payments, analysed."""
    from django.core.management import call_command

    recreate_database(BENCH_DB)
    call_command("migrate", verbosity=0, interactive=False)
    create_wallets(cfg.wallets)
    load_payment_history(cfg.wallets, cfg.history)
    vacuum_analyze()


# --- our workers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """Every worker warms up, then posts in timed slices, one mode per slice, all switching together."""

    slices: tuple[str, ...]  # a mode per slice: "spread" or "hot"
    slice_seconds: float
    clients: int
    warmup: int


@dataclass
class WorkerResult:
    counted: int = 0  # posts completed inside the measured window
    posted: int = 0  # every post that returned (warm-up and the one crossing the deadline included)
    errors: Counter[str] = field(default_factory=Counter)  # exception class name -> count
    python_cpu: float = 0.0  # seconds of this process's CPU in the window
    db_cpu: float | None = None  # seconds of its PostgreSQL backend's CPU in the window (None: unreadable)


@dataclass(frozen=True)
class Measurement:
    rate: float  # posts per second, all workers together
    errors: Counter[str]
    python_us: float  # CPU per post, microseconds: the workers' own processes
    db_us: float | None  # CPU per post, microseconds: their PostgreSQL backends


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by a local PostgreSQL backend (utime + stime in /proc).

    Throughput on these shared 2-core machines swings with the neighbours' load; CPU per post barely
    does, and it says whether the time goes to Python or to the database.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class Payer:
    """Makes fee-payment posts from one worker: random wallet, amount 1.000-100.000, fee 0.100."""

    def __init__(self, index: int) -> None:
        from django.db import connection

        from ledger import services
        from ledger.models import Account

        self.services = services
        self.rng = random.Random(index * 7_919 + os.getpid())
        self.wallets = list(Account.objects.filter(code__startswith=WALLET_PREFIX))
        self.revenue = {s: Account.objects.get(code=f"revenue.{s}") for s in SERVICES}
        self.fee_income = Account.objects.get(code="fee_income")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend_pid: int = cursor.fetchone()[0]

    def pay(self, mode: str) -> None:
        wallet = self.rng.choice(self.wallets)
        service = HOT_SERVICE if mode == "hot" else self.rng.choice(SERVICES)
        amount = Decimal(self.rng.randint(1_000, 100_000)).scaleb(-3)
        self.services.post(
            kind="fee_payment",
            legs=[
                self.services.Leg(wallet, amount + FEE),
                self.services.Leg(self.revenue[service], -amount),
                self.services.Leg(self.fee_income, -FEE),
            ],
            idempotency_key=str(uuid.uuid4()),
            scope=POST_SCOPE,
        )


def attempt(payer: Payer, mode: str, result: WorkerResult) -> None:
    try:
        payer.pay(mode)
        result.posted += 1
    except Exception as exc:  # counted and reported: one refusal must not stop the measurement
        result.errors[type(exc).__name__] += 1


def timed_slice(payer: Payer, mode: str, seconds: float) -> WorkerResult:
    """Post until the deadline; count the posts that completed before it, and the CPU spent."""
    result = WorkerResult()
    cpu_start, db_start = time.process_time(), backend_cpu_seconds(payer.backend_pid)
    deadline = time.monotonic() + seconds
    while True:
        before = result.posted
        attempt(payer, mode, result)
        if time.monotonic() > deadline:
            break
        result.counted += result.posted - before
    db_end = backend_cpu_seconds(payer.backend_pid)
    result.python_cpu = time.process_time() - cpu_start
    result.db_cpu = None if db_start is None or db_end is None else db_end - db_start
    return result


def run_job(payer: Payer, job: Job, barrier: Any) -> list[WorkerResult]:
    """Warm up, then one timed slice per mode, every slice started by all workers at the barrier."""
    warm = WorkerResult()
    for _ in range(job.warmup):
        attempt(payer, job.slices[0], warm)
    results = []
    for mode in job.slices:
        barrier.wait(timeout=300)
        results.append(timed_slice(payer, mode, job.slice_seconds))
    results[0].posted += warm.posted
    results[0].errors.update(warm.errors)
    return results


def worker_main(index: int, database: str, jobs: Any, results: Any, barriers: dict[int, Any]) -> None:
    """A worker process: its own Django and connection, then jobs until told to stop (None)."""
    try:
        setup_django(database)
        payer = Payer(index)
        results.put(("ready", index, None))
        while (job := jobs.get()) is not None:
            results.put(("done", index, run_job(payer, job, barriers[job.clients])))
    except Exception:
        results.put(("failed", index, traceback.format_exc()))


def measure(results: list[WorkerResult], seconds: float) -> Measurement:
    """Sum the workers' slices of one mode into a rate and CPU per post."""
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result.errors)
    counted = sum(r.counted for r in results)
    per_post = 1e6 / max(counted, 1)
    db_cpu = [r.db_cpu for r in results]
    return Measurement(
        rate=counted / seconds,
        errors=errors,
        python_us=sum(r.python_cpu for r in results) * per_post,
        db_us=None if None in db_cpu else sum(c for c in db_cpu if c is not None) * per_post,
    )


class WorkerPool:
    """Long-lived worker processes (spawned once, each connected once) that run timed jobs together."""

    def __init__(self, size: int, database: str, client_counts: Iterable[int]) -> None:
        ctx = mp.get_context("spawn")
        self.results = ctx.Queue()
        self.barriers = {n: ctx.Barrier(n + 1) for n in set(client_counts)}
        self.jobs = [ctx.Queue() for _ in range(size)]
        self.processes = [
            ctx.Process(target=worker_main, args=(i, database, self.jobs[i], self.results, self.barriers), daemon=True)
            for i in range(size)
        ]
        for process in self.processes:
            process.start()
        for _ in range(size):
            self._receive("ready", timeout=300)
        self.posted_total = 0

    def _receive(self, expected: str, timeout: float) -> Any:
        try:
            kind, index, payload = self.results.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"no worker answered within {timeout:.0f} s") from None
        if kind != expected:
            raise RuntimeError(f"worker {index} failed:\n{payload}")
        return payload

    def run(self, job: Job) -> dict[str, Measurement]:
        """Run ``job`` on ``job.clients`` workers at once; per mode, their summed rate, errors and CPU."""
        for i in range(job.clients):
            self.jobs[i].put(job)
        for _ in job.slices:
            self.barriers[job.clients].wait(timeout=300)
        timeout = job.slice_seconds * len(job.slices) + 120
        per_mode: dict[str, list[WorkerResult]] = {}
        for _ in range(job.clients):
            for mode, result in zip(job.slices, self._receive("done", timeout), strict=True):
                per_mode.setdefault(mode, []).append(result)
                self.posted_total += result.posted
        return {
            mode: measure(results, job.slice_seconds * job.slices.count(mode)) for mode, results in per_mode.items()
        }

    def close(self) -> None:
        for jobs in self.jobs:
            jobs.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()


# --- the reference --------------------------------------------------------------------------------


def run_pgbench(cfg: Config, mode: str, clients: int) -> tuple[float, float, float | None]:
    """The pure-SQL ceiling: pgbench as the shared README runs it.

    Returns tps (without connection time), and the CPU per transaction (microseconds) of pgbench itself
    and of its backends (None if unreadable).
    """
    before = os.times()
    args = ["pgbench", "-h", HOST, "-p", str(PORT), "-U", USER, "-n", "-c", str(clients), "-j", str(min(2, clients))]
    args += ["-T", str(cfg.seconds), "-D", f"wallets={cfg.wallets}", "-f", str(cfg.shared / REF_SCRIPTS[mode])]
    with subprocess.Popen([*args, REF_DB], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            db_us = reference_cpu_per_transaction(cfg.seconds, clients)
            stdout, stderr = proc.communicate(timeout=cfg.seconds + 120)
        finally:
            if proc.poll() is None:
                proc.kill()
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", stdout)
    failed = re.search(r"number of failed transactions: (\d+)", stdout)
    if proc.returncode or match is None or (failed and int(failed.group(1))):
        raise RuntimeError(f"pgbench did not report a clean run:\n{stdout}\n{stderr}")
    after, tps = os.times(), float(match.group(1))
    client_cpu = after.children_user - before.children_user + after.children_system - before.children_system
    return tps, client_cpu / (tps * cfg.seconds) * 1e6, db_us


def reference_cpu_per_transaction(seconds: int, clients: int) -> float | None:
    """While pgbench runs: CPU of its backends per committed payment, over the middle of the run."""
    with psycopg.connect(db_url(REF_DB), autocommit=True) as conn:

        def sample() -> tuple[float | None, int]:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND datname = %s", [REF_DB]
            )
            pids = [pid for (pid,) in rows]
            cpu = [backend_cpu_seconds(pid) for pid in pids]
            total = None if len(pids) != clients or None in cpu else sum(c for c in cpu if c is not None)
            return total, conn.execute("SELECT count(*) FROM fee_journal_entry").fetchone()[0]

        time.sleep(min(1.0, seconds / 4))
        cpu_start, entries_start = sample()
        time.sleep(max(seconds - 2.5, seconds / 2))
        cpu_end, entries_end = sample()
    if cpu_start is None or cpu_end is None or entries_end <= entries_start:
        return None
    return (cpu_end - cpu_start) / (entries_end - entries_start) * 1e6


# --- the interleaved rounds -----------------------------------------------------------------------

Figures = dict[tuple[str, int], list[float]]  # (series, clients) -> one figure per round


def run_rounds(cfg: Config, pool: WorkerPool) -> Figures:
    """Per round and client count: reference cold, ours, reference hot; ours in half-length slices
    spread, hot, hot, spread.

    Every pair that is compared (ours vs its reference, hot vs spread) is measured back to back, and
    the mirrored orders cancel a steady drift in the neighbours' load.
    """
    figures: Figures = {}
    for round_no in range(1, cfg.rounds + 1):
        for clients in cfg.clients:
            reference(cfg, figures, "spread", clients, round_no)
            runs = pool.run(Job(("spread", "hot", "hot", "spread"), cfg.seconds / 2, clients, cfg.warmup))
            for mode in MODES:
                run = runs[mode]
                record(figures, f"ours_{mode}", clients, round_no, run.rate, "posts/s")
                figures.setdefault((f"cpu_client_us_ours_{mode}", clients), []).append(run.python_us)
                if run.db_us is not None:
                    figures.setdefault((f"cpu_db_us_ours_{mode}", clients), []).append(run.db_us)
                for name, count in run.errors.items():
                    say(f"errors_ours_{mode}_c{clients}_r{round_no}_{name}", count)
            reference(cfg, figures, "hot", clients, round_no)
    return figures


def reference(cfg: Config, figures: Figures, mode: str, clients: int, round_no: int) -> None:
    tps, client_us, db_us = run_pgbench(cfg, mode, clients)
    name = "cold" if mode == "spread" else "hot"
    record(figures, f"ref_{name}", clients, round_no, tps, "tps")
    figures.setdefault((f"cpu_client_us_ref_{name}", clients), []).append(client_us)
    if db_us is not None:
        figures.setdefault((f"cpu_db_us_ref_{name}", clients), []).append(db_us)


def record(figures: Figures, series: str, clients: int, round_no: int, value: float, unit: str) -> None:
    figures.setdefault((series, clients), []).append(value)
    say(f"{series}_c{clients}_r{round_no}", value, unit)


def ratios(figures: Figures, top: tuple[str, int], bottom: tuple[str, int]) -> list[float]:
    """Round-by-round ratios (each round's figures were measured minutes apart at most)."""
    return [a / b for a, b in zip(figures.get(top, []), figures.get(bottom, []), strict=False) if b]


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a (not measured in this run)"
    return f"{value:.3f} (target >= {target:.2f}) {'PASS' if value >= target else 'MISS'}"


def summarize(cfg: Config, figures: Figures) -> list[str]:
    """Median figures, then each ratio as the median of its per-round values. Returns the target lines."""
    for (series, clients), values in sorted(figures.items()):
        unit = "us CPU per payment" if series.startswith("cpu_") else "/s"
        say(f"median_{series}_c{clients}", statistics.median(values), unit)
    pairs = {
        f"{name}_c{c}": ((top, c), (bottom, c))
        for c in cfg.clients
        for name, top, bottom in (
            ("ours_spread_vs_ref_cold", "ours_spread", "ref_cold"),
            ("ours_hot_vs_ref_hot", "ours_hot", "ref_hot"),
            ("ours_hot_vs_ours_spread", "ours_hot", "ours_spread"),
        )
    }
    pairs["ours_spread_c16_vs_c4"] = (("ours_spread", 16), ("ours_spread", 4))
    pairs["ref_cold_c16_vs_c4"] = (("ref_cold", 16), ("ref_cold", 4))
    medians: dict[str, float] = {}
    for name, (top, bottom) in pairs.items():
        values = ratios(figures, top, bottom)
        if values:
            medians[name] = statistics.median(values)
            say(f"ratio_{name}", medians[name], "median of rounds " + ", ".join(f"{v:.3f}" for v in values))
    for clients in cfg.clients:
        cpu_ratio(figures, clients)
    hot = [v for k, v in medians.items() if k.startswith("ours_hot_vs_ours_spread")]
    return [
        "ours/ceiling at 4 workers (spread vs fee_cold): "
        + verdict(medians.get("ours_spread_vs_ref_cold_c4"), TARGET_VS_CEILING_AT_4),
        f"16 workers vs our own 4 (spread): {verdict(medians.get('ours_spread_c16_vs_c4'), TARGET_16_VS_4)}",
        f"hot vs spread, worst client count: {verdict(min(hot) if hot else None, TARGET_HOT_VS_SPREAD)}",
    ]


def cpu_ratio(figures: Figures, clients: int) -> None:
    """CPU per payment, reference / ours: the throughput ratio a CPU-bound machine allows. The
    neighbours' load moves it far less than it moves throughput."""
    parts = {}
    for who in ("ours_spread", "ref_cold"):
        for side in ("client", "db"):
            values = figures.get((f"cpu_{side}_us_{who}", clients))
            if not values:
                return
            parts[who, side] = statistics.median(values)
    ours, ref = (parts[w, "client"] + parts[w, "db"] for w in ("ours_spread", "ref_cold"))
    say(
        f"ratio_cpu_ref_cold_vs_ours_spread_c{clients}",
        ref / ours,
        f"(CPU per payment: ours {parts['ours_spread', 'client']:.0f} python + {parts['ours_spread', 'db']:.0f} "
        f"database = {ours:.0f} us; reference {parts['ref_cold', 'client']:.0f} pgbench + "
        f"{parts['ref_cold', 'db']:.0f} database = {ref:.0f} us)",
    )


# --- balance reads --------------------------------------------------------------------------------


def time_reads(read: Callable[[], Any], count: int) -> float:
    """Median microseconds of ``count`` reads, after a short warm-up."""
    for _ in range(min(20, count)):
        read()
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        read()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def postings_balance(account_id: int, before: dt.datetime | None = None) -> Decimal:
    """The wallet's balance summed from its postings (natural sign of a liability): the slow truth."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT -coalesce(sum(amount), 0) FROM ledger_posting WHERE account_id = %s "
            "AND (%s::timestamptz IS NULL OR created_at < %s::timestamptz)",
            [account_id, before, before],
        )
        return cursor.fetchone()[0]


def bench_balance_reads(cfg: Config) -> bool:
    """Balance now and as of past instants on a 1M-posting wallet and a 10-posting wallet.

    Returns whether every read agreed with the sum of postings.
    """
    from django.utils import timezone

    from ledger import selectors, services

    sizes = {"big": cfg.big_postings, "small": cfg.small_postings}
    wallets = {}
    for label, count in sizes.items():
        started = time.monotonic()
        wallet = services.open_account(
            code=f"bench-read-{label}", name=f"Bench wallet with {count} postings", kind="liability",
            owner_kind="wallet", tracks_balance=True, floor=Decimal("0"),
        )  # fmt: skip
        load_wallet_postings(wallet.pk, count)
        wallets[label] = wallet
        say(f"load_{label}_wallet_{count}_postings", time.monotonic() - started, "s")
    vacuum_analyze()

    now = timezone.now()
    rng = random.Random(7)
    instants = [now - dt.timedelta(days=rng.uniform(1, 364)) for _ in range(cfg.reads)]
    ok = True
    for label, count in sizes.items():
        wallet = wallets[label]
        cycle = iter(instants * 2)
        say(f"balance_now_{count}_postings", time_reads(lambda w=wallet: selectors.balance(w), cfg.reads), "us")
        say(
            f"balance_as_of_{count}_postings",
            time_reads(lambda w=wallet, c=cycle: selectors.balance(w, as_of=next(c)), cfg.reads - 20),
            "us",
        )
        checks = [(None, selectors.balance(wallet))] + [(t, selectors.balance(wallet, as_of=t)) for t in instants[:5]]
        ok &= all(value == postings_balance(wallet.pk, t) for t, value in checks)
    say("balance_reads_equal_postings", "yes" if ok else "NO")
    return ok


# --- consistency ----------------------------------------------------------------------------------


def check_consistency(posted: int) -> bool:
    """The project's own verify checks that matter here, plus: every post counted left one key."""
    from django.db import connection

    from ledger import verification

    started = time.monotonic()
    findings = {
        "unbalanced_entries": verification.unbalanced_entries(),
        "cached_balances_differ": verification.cached_balances_differ(),
        "floors_broken": verification.floors_broken(),
        "guards_missing": verification.guards_missing(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(entry_id) FROM ledger_idempotencykey WHERE scope = %s", [POST_SCOPE])
        keys, with_entry = cursor.fetchone()
        # The last balance_after of each wallet is what as_of reads return: it must equal the cached row.
        cursor.execute(
            "SELECT count(*) FROM ledger_accountbalance b JOIN LATERAL (SELECT balance_after FROM ledger_posting p "
            "WHERE p.account_id = b.account_id ORDER BY created_at DESC, id DESC LIMIT 1) last ON true "
            "WHERE last.balance_after IS DISTINCT FROM b.balance"
        )
        stale_balance_after = cursor.fetchone()[0]
    for name, problems in findings.items():
        say(f"check_{name}", len(problems))
        for problem in problems[:5]:
            print(f"  - {problem}")
    say("check_last_balance_after_differs", stale_balance_after)
    say("check_posts_returned_vs_keys", f"{posted} vs {keys} ({with_entry} with an entry)")
    ok = not any(findings.values()) and stale_balance_after == 0 and posted == keys == with_entry
    say("check_seconds", time.monotonic() - started, "s")
    say("books_consistent", "yes" if ok else "NO")
    return ok


def check_reference(cfg: Config) -> bool:
    """The reference's own check. Its revenue / fee-income balance rows lag their postings by design
    (the cold script never updates them), so only the entries are judged here."""
    out = subprocess.run(
        [*psql_args(REF_DB), "-At", "-f", str(cfg.shared / "fee_check.sql")], capture_output=True, text=True, check=True
    )
    say("ref_check", out.stdout.strip())
    ok = " sum_postings=0 " in out.stdout and " unbalanced_entries=0 " in out.stdout
    say("ref_entries_balanced", "yes" if ok else "NO")
    return ok


# --- main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    started = time.monotonic()
    say("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    say("machine", f"{os.cpu_count()} CPUs, {sys.platform}, Python {sys.version.split()[0]}")
    say("settings", f"seconds={cfg.seconds:g} rounds={cfg.rounds} clients={cfg.clients} wallets={cfg.wallets}")
    with psycopg.connect(db_url("postgres")) as conn:
        say("postgres", conn.execute("SHOW server_version").fetchone()[0])
    say("load_average_1m_at_start", os.getloadavg()[0])  # the neighbours' load: why figures swing

    load_reference(cfg)
    setup_django(BENCH_DB)
    prepare_bench_database(cfg)
    say("setup_seconds", time.monotonic() - started, "s")

    pool = WorkerPool(max(cfg.clients), BENCH_DB, cfg.clients)
    try:
        figures = run_rounds(cfg, pool)
    finally:
        pool.close()
    targets = summarize(cfg, figures)

    balance_ok = True if cfg.skip_balance_read else bench_balance_reads(cfg)
    books_ok = check_consistency(pool.posted_total) and check_reference(cfg)

    print("\nTargets:")
    for line in targets:
        print(f"  {line}")
    say("load_average_1m_at_end", os.getloadavg()[0])
    say("total_seconds", time.monotonic() - started, "s")
    return 0 if books_ok and balance_ok else 1


if __name__ == "__main__":
    sys.exit(main())
