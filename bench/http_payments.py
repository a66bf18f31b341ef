"""Fee payments per second through the real HTTP stack (gunicorn, PostgreSQL), against ``post()`` itself.

Issue 3. What it measures, and why this way (design.md §3, ../shared/bench/README.md, bench/ledger_post.py):

- ``POST /api/v1/payments/`` from 16 concurrent keep-alive clients (``wrk`` with a generated Lua script:
  a fresh Idempotency-Key and bill reference per request, a random wallet of 10,000 and a random service)
  against gunicorn serving ``erial.wsgi`` with DEBUG off, on a dedicated database that starts from a
  history of past payments and top-ups (never from empty tables). wrk is C: it leaves the two cores to
  the server and the database, and it times every request (p50 / p99 from its histogram).
- In the same run, interleaved (these machines are noisy, ±25 % between minutes), the service-level
  rate: ``bench/ledger_post.py``'s own fee-payment ``post()`` workers (imported, not copied, so both
  benchmarks measure the same thing) on the same database, at the same concurrency and at 4 (its peak).
  The median of the per-round ratios is judged, never one absolute figure.
- CPU per request of each side (gunicorn workers, PostgreSQL backends, wrk) and how many backends wait
  on a row lock: they say where the time goes when a target is missed. ``--profile`` adds py-spy.
- After the run: ``ledger.verification.verify()`` and, per run, the 201s counted against the rows created
  (only requests still in flight when wrk stopped may have a row without a counted 201).

``bench/http_topups.py`` (issue 4) reuses this module's set-up, server and load generator.

Run from the repository root: ``.venv/bin/python bench/http_payments.py`` (``--quick`` for a smoke run,
``--sweep`` to compare gunicorn worker set-ups). Prints ``figure: value`` lines, then PASS / MISS.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import io
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
for _path in (str(REPO_ROOT), str(BENCH_DIR)):  # erial/ledger/agents, and the ledger benchmark next to us
    if _path not in sys.path:
        sys.path.insert(0, _path)

import ledger_post as lp  # noqa: E402  (needs the path above)

DB = "erial_httpbench"
SERVICES = lp.SERVICES
OFFICES = 50
SAME_OFFICE_CASHIERS = 16
WALLET_FUNDS = Decimal("100000.000")  # per wallet: no payment in the run is refused for funds
OFFICE_FLOAT = Decimal("50000000.000")  # per office: no top-up in the run meets the floor
CREDIT_LIMIT = Decimal("1000.000")
RESULTS = BENCH_DIR / "RESULTS.md"
BUSY_PATTERN = "bench/ledger_post.py|pgbench"
# Chosen by two runs of ``--sweep sync:2,sync:3,sync:4,gthread:2x4,gthread:3x4`` (bench/RESULTS.md): the
# Python of the request is the bottleneck on 2 cores; 3 sync workers gave the best median rate and the
# lowest p99 over both, 2 sync workers and 2x4 threads were within the noise, 4 or more only added contention.
DEFAULT_SERVER = "sync:3"

# Targets from issue 3.
TARGET_HTTP_VS_SERVICE = 0.5
TARGET_P99_MS = 150.0


def say(name: str, value: float | int | str, unit: str = "") -> None:
    lp.say(name, value, unit)


# --- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    seconds: int
    rounds: int
    clients: int
    service_clients: tuple[int, ...]
    wallets: int
    history: int
    topup_history: int
    server: str
    sweep: tuple[str, ...]
    profile: bool
    reuse_db: bool
    quick: bool
    results: Path | None
    wait_minutes: int
    command: str


def parse_args(argv: Sequence[str] | None, description: str) -> Config:
    """The flags both HTTP benchmarks share; ``--quick`` is a smoke run whose figures mean nothing."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=int, help="duration of each measurement (default 10)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--clients", type=int, help="concurrent HTTP clients (default 16)")
    parser.add_argument("--service-clients", help="post() worker counts, comma-separated (default: --clients,4)")
    parser.add_argument("--wallets", type=int, help="customer wallets (default 10000)")
    parser.add_argument("--history", type=int, help="past fee payments loaded first (default 50000)")
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help=f"gunicorn: sync:N or gthread:NxT (default {DEFAULT_SERVER})"
    )
    parser.add_argument("--sweep", help="compare these server set-ups on payments instead, e.g. sync:2,gthread:2x4")
    parser.add_argument("--profile", action="store_true", help="one more run under py-spy, summarised")
    parser.add_argument("--reuse-db", action="store_true", help="keep the loaded database (development)")
    parser.add_argument("--no-results", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--wait-minutes", type=int, help="wait this long for other benchmarks (default 20)")
    parser.add_argument("--quick", action="store_true", help="small and fast: a smoke run, not figures")
    args = parser.parse_args(argv)
    quick = args.quick
    clients = args.clients or 16
    service = args.service_clients or (str(clients) if quick else f"{clients},4")
    return Config(
        seconds=args.seconds or (3 if quick else 10),
        rounds=args.rounds or (1 if quick else 3),
        clients=clients,
        service_clients=tuple(dict.fromkeys(int(c) for c in service.split(","))),
        wallets=args.wallets or (500 if quick else 10_000),
        history=args.history or (2_000 if quick else 50_000),
        topup_history=500 if quick else 10_000,
        server=args.server,
        sweep=tuple(args.sweep.split(",")) if args.sweep else (),
        profile=args.profile,
        reuse_db=args.reuse_db,
        quick=quick,
        results=None if quick or args.no_results else RESULTS,
        wait_minutes=args.wait_minutes if args.wait_minutes is not None else (0 if quick else 20),
        command=" ".join([".venv/bin/python", os.path.relpath(sys.argv[0], REPO_ROOT), *sys.argv[1:]]),
    )


def header(cfg: Config) -> list[str]:
    """Date, machine and settings, printed and kept for RESULTS.md (figures mean little without them)."""
    with psycopg.connect(lp.db_url("postgres")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    lines = [
        f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {os.cpu_count()} CPUs, {sys.platform}, Python {sys.version.split()[0]}, PostgreSQL {pg}",
        f"settings: seconds={cfg.seconds} rounds={cfg.rounds} clients={cfg.clients} "
        f"service_clients={','.join(map(str, cfg.service_clients))} wallets={cfg.wallets} server={cfg.server}",
        f"load_average_1m_at_start: {os.getloadavg()[0]:.2f}",
    ]
    for line in lines:
        print(line, flush=True)
    return lines


def other_benchmarks() -> list[str]:
    out = subprocess.run(["pgrep", "-af", BUSY_PATTERN], capture_output=True, text=True, check=False)
    return [line for line in out.stdout.splitlines() if str(os.getpid()) not in line.split()[:1]]


def wait_for_quiet(minutes: int) -> str:
    """Wait (polling every 30 s) until no other benchmark shares the two cores; say if it never happened."""
    deadline = time.monotonic() + minutes * 60
    while (busy := other_benchmarks()) and time.monotonic() < deadline:
        say("waiting_for_other_benchmark", busy[0][:100])
        time.sleep(30)
    note = "another benchmark was still running: " + busy[0][:100] if busy else "no other benchmark running"
    say("machine_share", note)
    return note


# --- set-up: database, people, history ------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    """What the clients need: tokens and wallet numbers, read back from the database."""

    service_token: str
    wallets: list[str]
    offices: list[str]  # office codes, the first is the one with many cashiers
    cashier_tokens: dict[str, list[str]]  # office code -> tokens of its cashiers (each with an open session)


def prepare(cfg: Config) -> Fixture:
    """A fresh database with everything loaded and analysed, unless ``--reuse-db`` and it is there."""
    started = time.monotonic()
    if not (cfg.reuse_db and database_exists(DB)):
        lp.recreate_database(DB)
    lp.setup_django(DB)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if not wallet_numbers():
        create_wallets(cfg.wallets)
        create_people()
        load_history(cfg.history, cfg.topup_history)
    open_todays_sessions()
    vacuum_analyze()
    say("setup_seconds", time.monotonic() - started, "s")
    return read_fixture()


def database_exists(name: str) -> bool:
    with psycopg.connect(lp.db_url("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def vacuum_analyze() -> None:
    """Fresh statistics, so the plans behind the foreign-key checks are index probes from the start."""
    with psycopg.connect(lp.db_url(DB), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def wallet_numbers() -> list[str]:
    from ledger.models import Wallet

    return list(Wallet.objects.order_by("number").values_list("number", flat=True))


def create_wallets(count: int) -> None:
    """``count`` wallets as ``ledger.wallets.open_wallet`` makes them (holder, wallet, account with floor 0),
    in four bulk inserts through the models. Their accounts carry ledger_post's wallet prefix, so that its
    post() workers pay from the very same wallets."""
    from django.db import transaction

    from ledger import account_numbers
    from ledger.models import Account, AccountBalance, Holder, Wallet

    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(account_numbers.new_number())
    ordered = sorted(numbers)
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            Account(code=f"{lp.WALLET_PREFIX}{n}", name=f"Wallet {n}", kind="liability", owner_kind="wallet",
                    owner_ref=n, tracks_balance=True)
            for n in ordered
        )  # fmt: skip
        AccountBalance.objects.bulk_create(
            AccountBalance(account=a, balance=Decimal("0.000"), floor=Decimal("0.000")) for a in accounts
        )
        holders = Holder.objects.bulk_create(
            Holder(holder_type="individual", national_id=f"{10**9 + i}", name_en=f"Bench holder {i}",
                   name_ar=f"حامل {i}", phone=f"+9689{i:07d}")
            for i in range(count)
        )  # fmt: skip
        Wallet.objects.bulk_create(
            Wallet(number=n, holder=h, account=a, channel="office")
            for n, h, a in zip(ordered, holders, accounts, strict=True)
        )


def office_codes() -> list[str]:
    return [f"BENCH{i:02d}" for i in range(OFFICES)]


def create_people() -> None:
    """The municipal system's API user, 50 active external offices (credit limit, limits and commission in
    force, so top-ups take the whole production path), their cashiers with tokens (``create_api_user``)."""
    from django.utils import timezone

    from agents import services
    from agents.models import CommissionRule, Limit, LimitKind

    api_user("bench-service", "service")
    for i, code in enumerate(office_codes()):
        office = services.create_office(
            code=code, name_en=f"Bench office {i}", name_ar=f"مكتب {i}", kind="external", actor=None,
            credit_limit=CREDIT_LIMIT,
        )  # fmt: skip
        services.activate_office(office=office, actor=None)
        for k in range(SAME_OFFICE_CASHIERS if i == 0 else 1):
            api_user(f"bench-cashier-{code}-{k}", "agent", office=code)
    since = timezone.now() - dt.timedelta(days=60)
    for kind, amount in (
        (LimitKind.PER_TRANSACTION, "500.000"),
        (LimitKind.OFFICE_DAILY, "100000000.000"),
        (LimitKind.WALLET_DAILY, "1000000.000"),
        (LimitKind.WALLET_MAX_BALANCE, "100000000.000"),
    ):
        Limit.objects.create(kind=kind, amount=Decimal(amount), effective_from=since, note="bench")
    CommissionRule.objects.create(
        kind="percent", rate=Decimal("0.500"), minimum=Decimal("0.050"), maximum=Decimal("5.000"), effective_from=since
    )


def api_user(username: str, role: str, office: str | None = None) -> str:
    """A user with a role and a token, made the way operators make them: ``manage.py create_api_user``."""
    from django.core.management import call_command

    out = io.StringIO()
    extra = {"office": office} if office else {}
    call_command("create_api_user", username, role=role, stdout=out, **extra)
    return out.getvalue().strip().splitlines()[-1]


def open_todays_sessions() -> None:
    """One open session per cashier for today's business day (a reused database may hold older ones)."""
    from django.utils import timezone

    from agents import services
    from agents.models import Cashier, CashierSession
    from ledger.businessday import business_day_of

    today = business_day_of(timezone.now())
    for cashier in Cashier.objects.select_related("office", "user").filter(user__username__startswith="bench-"):
        session = CashierSession.objects.filter(cashier=cashier, status="open").first()
        if session and session.business_day == today:
            continue
        if session:
            services.close_session(session=session, counted_cash=session.opening_cash, actor=cashier.user, note="bench")
        services.open_session(cashier=cashier, opening_cash=Decimal("100.000"))


def read_fixture() -> Fixture:
    from rest_framework.authtoken.models import Token

    tokens: dict[str, list[str]] = {}
    for key, username in (
        Token.objects.filter(user__username__startswith="bench-cashier-")
        .order_by("user__username")
        .values_list("key", "user__username")
    ):
        tokens.setdefault(username.split("-")[2], []).append(key)
    return Fixture(
        service_token=Token.objects.get(user__username="bench-service").key,
        wallets=wallet_numbers(),
        offices=office_codes(),
        cashier_tokens=tokens,
    )


# History: ledger_post's set-based loader (bench_leg -> entries, postings with balance_after, keys,
# cached balances), plus the business rows (payments, top-ups) that point at those entries.


def materialize(fill: Callable[[Any], None], business_rows: Sequence[str] = ()) -> None:
    """One transaction: ``fill`` writes bench_leg (and its own temporary tables), ledger_post's MATERIALIZE
    turns it into books, then ``business_rows`` (SQL that may join bench_entry) add payments or top-ups."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(lp.LEG_TABLE)
        fill(cursor)
        for sql in [*lp.MATERIALIZE, *business_rows]:
            cursor.execute(sql)


def load_history(payments: int, topups: int) -> None:
    """Oldest first, so that balance_after follows time on every account: each wallet funded (40 days
    ago), each float deposited (39), ``payments`` past fee payments (30 to 3 days ago), ``topups`` past
    cash top-ups in yesterday-but-one's closed sessions."""
    started = time.monotonic()
    materialize(fund_wallets)
    materialize(deposit_floats)
    materialize(lambda cursor: past_payments(cursor, payments), [PAYMENT_ROWS])
    materialize(lambda cursor: past_topups(cursor, topups), [TOPUP_ROWS])
    say("history_seconds", time.monotonic() - started, "s")


def fund_wallets(cursor: Any) -> None:
    cursor.execute(
        "INSERT INTO bench_leg SELECT w.n, 'online_topup', now() - interval '40 days' + w.n * interval '1 ms', "
        "x.account_id, x.amount, x.leg "
        "FROM (SELECT row_number() OVER (ORDER BY id) AS n, account_id FROM ledger_wallet) w, ledger_account bc, "
        "LATERAL (VALUES (bc.id, %s::numeric, 1), (w.account_id, -%s::numeric, 2)) x(account_id, amount, leg) "
        "WHERE bc.code = 'bank_clearing'",
        [WALLET_FUNDS, WALLET_FUNDS],
    )


def deposit_floats(cursor: Any) -> None:
    cursor.execute(
        "INSERT INTO bench_leg SELECT o.n, 'float_deposit', now() - interval '39 days' + o.n * interval '1 ms', "
        "x.account_id, x.amount, x.leg "
        "FROM (SELECT row_number() OVER (ORDER BY id) AS n, cash_account_id FROM agents_office) o, "
        "ledger_account bank, "
        "LATERAL (VALUES (bank.id, %s::numeric, 1), (o.cash_account_id, -%s::numeric, 2)) x(account_id, amount, leg) "
        "WHERE bank.code = 'bank'",
        [OFFICE_FLOAT, OFFICE_FLOAT],
    )


PAYMENT_ROWS = """
INSERT INTO ledger_payment (id, receipt_number, wallet_id, service_id, bill_reference, is_instalment, amount, fee,
                            entry_id, created_at)
SELECT e.id, 'RH' || lpad(p.seq::text, 10, '0'), p.wallet_id, p.service_id, 'HIST-' || p.seq, false, p.amount,
       p.fee, e.id, e.created_at
FROM bench_pay p JOIN bench_entry e USING (seq)
"""


def past_payments(cursor: Any, count: int) -> None:
    """Fee payments as pay_fee writes them. Receipt numbers 'RH…' can never equal a new one ('R' + digits)."""
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_pay ON COMMIT DROP AS "
        "SELECT g AS seq, w.id AS wallet_id, w.account_id, s.id AS service_id, s.revenue_account_id, "
        "(1000 + (g * 104729) %% 99001) / 1000.0 AS amount, f.fee "
        "FROM generate_series(1::bigint, %(n)s) g "
        "JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, account_id FROM ledger_wallet) w "
        "  ON w.k = (g * 7919) %% (SELECT count(*) FROM ledger_wallet) "
        "JOIN (SELECT row_number() OVER (ORDER BY code) - 1 AS k, id, revenue_account_id FROM ledger_service) s "
        "  ON s.k = g %% 5 "
        "CROSS JOIN (SELECT fee FROM ledger_feerate ORDER BY effective_from DESC LIMIT 1) f",
        {"n": count},
    )
    cursor.execute(
        "INSERT INTO bench_leg SELECT p.seq, 'fee_payment', "
        "now() - interval '30 days' + p.seq * (interval '27 days' / %s), x.account_id, x.amount, x.leg "
        "FROM bench_pay p CROSS JOIN (SELECT id FROM ledger_account WHERE code = 'fee_income') fi "
        "CROSS JOIN LATERAL (VALUES (p.account_id, p.amount + p.fee, 1), (p.revenue_account_id, -p.amount, 2), "
        "(fi.id, -p.fee, 3)) x(account_id, amount, leg)",
        [count],
    )


TOPUP_ROWS = """
INSERT INTO agents_cashtopup (id, receipt_number, session_id, office_id, wallet_id, amount, commission, entry_id,
                              created_at, created_by_id)
SELECT e.id, 'RH' || lpad((5000000000 + t.seq)::text, 10, '0'), t.session_id, t.office_id, t.wallet_id, t.amount,
       t.commission, e.id, e.created_at, t.user_id
FROM bench_top t JOIN bench_entry e USING (seq)
"""


def past_topups(cursor: Any, count: int) -> None:
    """Cash top-ups two days ago, in one closed session per office (first cashier), with commission."""
    two_days_ago = "(now() - interval '2 days')"
    cursor.execute(
        "INSERT INTO agents_cashiersession (id, cashier_id, office_id, status, business_day, opened_at, "
        "opening_cash, closed_at, expected_cash, counted_cash, difference, supervisor_note) "
        f"SELECT DISTINCT ON (c.office_id) gen_random_uuid(), c.id, c.office_id, 'closed', "
        f"({two_days_ago} AT TIME ZONE 'Asia/Muscat')::date, {two_days_ago} - interval '1 hour', 0, "
        f"{two_days_ago} + interval '1 hour', 0, 0, 0, '' FROM agents_cashier c ORDER BY c.office_id, c.id"
    )
    cursor.execute(
        "CREATE TEMPORARY TABLE bench_top ON COMMIT DROP AS "
        "SELECT g AS seq, o.id AS office_id, o.cash_account_id, o.commission_account_id, s.id AS session_id, "
        "c.user_id, w.id AS wallet_id, w.account_id, a.amount, "
        "least(greatest(round(a.amount * 0.005, 3), 0.050), 5.000) AS commission "
        "FROM generate_series(1::bigint, %(n)s) g "
        "CROSS JOIN LATERAL (SELECT (1000 + (g * 104723) %% 49001) / 1000.0 AS amount) a "
        "JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, * FROM agents_office) o "
        "  ON o.k = g %% (SELECT count(*) FROM agents_office) "
        "JOIN agents_cashiersession s ON s.office_id = o.id AND s.status = 'closed' "
        "JOIN agents_cashier c ON c.id = s.cashier_id "
        "JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, account_id FROM ledger_wallet) w "
        "  ON w.k = (g * 7907) %% (SELECT count(*) FROM ledger_wallet)",
        {"n": count},
    )
    cursor.execute(
        "INSERT INTO bench_leg SELECT t.seq, 'cash_topup', "
        f"{two_days_ago} + t.seq * (interval '30 minutes' / %s), x.account_id, x.amount, x.leg "
        "FROM bench_top t CROSS JOIN (SELECT id FROM ledger_account WHERE code = 'commission_expense') ce "
        "CROSS JOIN LATERAL (VALUES (t.cash_account_id, t.amount, 1), (t.account_id, -t.amount, 2), "
        "(ce.id, t.commission, 3), (t.commission_account_id, -t.commission, 4)) x(account_id, amount, leg)",
        [count],
    )


# --- the server -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    worker_class: str  # "sync" or "gthread"
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> ServerSpec:
        """``sync:3`` or ``gthread:2x4`` (workers x threads)."""
        match = re.fullmatch(r"(sync|gthread):(\d+)(?:x(\d+))?", text.strip())
        if match is None:
            raise SystemExit(f"--server {text!r}: expected sync:N or gthread:NxT")
        kind, workers, threads = match.groups()
        return cls(kind, int(workers), int(threads or 1))

    def __str__(self) -> str:
        return f"{self.worker_class}:{self.workers}" + (f"x{self.threads}" if self.worker_class == "gthread" else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(settings_module: str = "erial.settings") -> dict[str, str]:
    """Production settings: DEBUG off, real secrets, the bench database, quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))}
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DATABASE_URL=lp.db_url(DB),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        ERIAL_BANK_SECRET=secrets.token_urlsafe(24),
        ERIAL_GATEWAY_SECRET=secrets.token_urlsafe(24),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT), str(BENCH_DIR)]),  # bench/: drf_probe_settings
    )
    return env


class Server:
    """gunicorn serving erial.wsgi on 127.0.0.1, started and stopped by us (SIGTERM to its master only)."""

    def __init__(self, spec: ServerSpec, token: str, settings_module: str = "erial.settings") -> None:
        self.spec, self.port = spec, free_port()
        self.log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
        args = [sys.executable, "-m", "gunicorn", "erial.wsgi", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(spec.workers), "--worker-class", spec.worker_class, "--timeout", "120",
                "--graceful-timeout", "5", "--error-logfile", str(self.log), "--log-level", "warning"]  # fmt: skip
        if spec.worker_class == "gthread":
            args += ["--threads", str(spec.threads)]
        self.process = subprocess.Popen(args, cwd=REPO_ROOT, env=server_environment(settings_module))
        self.wait_ready(token)

    def wait_ready(self, token: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                if self.get("/api/v1/services/", token) == 200 and len(self.worker_pids()) == self.spec.workers:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn not ready in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def get(self, path: str, token: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            return conn.getresponse().status
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the load: wrk and its Lua script -------------------------------------------------------------

LUA = r"""
-- Generated by bench/http_payments.py: one money-moving POST per call, a fresh Idempotency-Key each.
local path, run, kind = "{path}", "{run}", "{kind}"
local tokens = {{ {tokens} }}
local accounts = {{ {accounts} }}
local services = {{ {services} }}
local low, high = {low}, {high}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counter, sent, created, other, samples = 0, 0, 0, 0, ""
  math.randomseed(tid * 7919 + {seed})
end

function request()
  counter = counter + 1
  sent = sent + 1
  local key = run .. "-" .. tid .. "-" .. counter
  local amount = string.format("%d.%03d", math.random(low, high), math.random(0, 999))
  local body
  if kind ~= "topup" then
    body = '{{"account":"' .. accounts[math.random(#accounts)] .. '","service":"' ..
      services[math.random(#services)] .. '","bill_reference":"' .. key .. '","amount":"' .. amount .. '"}}'
  else
    body = '{{"account":"' .. accounts[math.random(#accounts)] .. '","amount":"' .. amount .. '"}}'
  end
  local headers = {{["Authorization"] = "Token " .. tokens[math.random(#tokens)],
    ["Content-Type"] = "application/json", ["Idempotency-Key"] = key}}
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
    if other <= 3 then samples = samples .. status .. " " .. string.sub(body, 1, 300) .. "\n" end
  end
end

function done(summary, latency, requests)
  local sent_all, created_all, other_all, text = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    sent_all = sent_all + t:get("sent")
    created_all = created_all + t:get("created")
    other_all = other_all + t:get("other")
    text = text .. t:get("samples")
  end
  local e = summary.errors
  io.write(string.format("BENCH sent=%d created=%d other=%d duration_us=%d responses=%d p50_us=%d p90_us=%d " ..
    "p99_us=%d max_us=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    sent_all, created_all, other_all, summary.duration, summary.requests, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout))
  io.write("BENCH_SAMPLES\n" .. text)
end
"""


@dataclass(frozen=True)
class Load:
    """What the clients send: to which path, as whom, from which wallets."""

    kind: str  # "payment", "topup" or "post" (the payment's body, sent to bench/drf_probe.py)
    path: str
    tokens: list[str]
    accounts: list[str]
    low: int  # whole OMR, amounts are low.000 to high.999
    high: int

    def script(self, run: str) -> str:
        quoted = lambda items: ", ".join(f'"{item}"' for item in items)  # noqa: E731
        return LUA.format(
            path=self.path, run=run, kind=self.kind, tokens=quoted(self.tokens), accounts=quoted(self.accounts),
            services=quoted(SERVICES), low=self.low, high=self.high, seed=secrets.randbelow(1_000_000),
        )  # fmt: skip


def payments_load(fixture: Fixture) -> Load:
    return Load("payment", "/api/v1/payments/", [fixture.service_token], fixture.wallets, 1, 99)


@dataclass
class HttpRun:
    """One wrk run, with the CPU each side spent per created row and the row-lock waiters seen."""

    name: str
    seconds: float
    sent: int
    created: int
    other: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    samples: str
    rows: int = 0  # rows the database holds for this run's keys
    keys_without_entry: int = 0
    cpu_us: dict[str, float] = field(default_factory=dict)  # side -> microseconds per created row
    lock_waiters: float = 0.0  # mean backends waiting on a lock
    active: float = 0.0  # mean backends running a statement

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    @property
    def in_flight(self) -> int:
        return self.sent - self.created - self.other


def parse_wrk(name: str, stdout: str) -> HttpRun:
    match = re.search(r"^BENCH (.*)$", stdout, re.M)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{stdout[-3000:]}")
    v = {k: int(x) for k, x in (item.split("=") for item in match.group(1).split())}
    samples = stdout.split("BENCH_SAMPLES\n", 1)[1] if "BENCH_SAMPLES\n" in stdout else ""
    return HttpRun(
        name=name, seconds=v["duration_us"] / 1e6, sent=v["sent"], created=v["created"], other=v["other"],
        p50_ms=v["p50_us"] / 1e3, p90_ms=v["p90_us"] / 1e3, p99_ms=v["p99_us"] / 1e3, max_ms=v["max_us"] / 1e3,
        socket_errors=v["connect_errors"] + v["read_errors"] + v["write_errors"] + v["timeouts"],
        samples=samples.strip(),
    )  # fmt: skip


# --- CPU and lock accounting ----------------------------------------------------------------------


def cpu_of(pids: Sequence[int]) -> dict[int, float]:
    return {pid: cpu for pid in pids if (cpu := lp.backend_cpu_seconds(pid)) is not None}


class Watch:
    """During a run: samples pg_stat_activity every 20 ms (lock waiters, active backends) and the CPU of
    every backend of the bench database every 200 ms (Django reconnects every CONN_MAX_AGE = 60 s, so a
    backend may end within a run: its CPU is kept from its last reading), and around the run the CPU of the
    gunicorn workers and of wrk."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.conn = psycopg.connect(lp.db_url(DB), autocommit=True)
        self.stop_event = threading.Event()
        self.samples: list[tuple[int, int]] = []
        self.db_cpu: dict[int, float] = {}  # backend pid -> CPU seconds at its latest reading
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def backends(self, conn: psycopg.Connection) -> list[tuple[int, str | None, str | None]]:
        """Client backends of the bench database but our own two connections."""
        rows = conn.execute(
            "SELECT pid, wait_event_type, state FROM pg_stat_activity WHERE datname = %s AND "
            "backend_type = 'client backend' AND pid NOT IN (pg_backend_pid(), %s)",
            [DB, self.conn.info.backend_pid],
        )
        return list(rows)

    def sample(self) -> None:
        with psycopg.connect(lp.db_url(DB), autocommit=True) as conn:
            tick = 0
            while not self.stop_event.wait(0.02):
                rows = self.backends(conn)
                self.samples.append((sum(w == "Lock" for _, w, _ in rows), sum(s == "active" for _, _, s in rows)))
                tick += 1
                if tick % 10 == 0:
                    self.db_cpu.update(cpu_of([pid for pid, _, _ in rows]))

    @contextlib.contextmanager
    def around(self, run_holder: list[HttpRun]) -> Iterator[None]:
        workers = self.server.worker_pids()
        before_server = cpu_of(workers)
        before_db = cpu_of([pid for pid, _, _ in self.backends(self.conn)])
        self.db_cpu = dict(before_db)
        before_children = os.times()
        self.samples.clear()
        self.stop_event.clear()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        try:
            yield
        finally:
            self.stop_event.set()
            self.thread.join()
        after_children = os.times()
        wait_idle(self.conn)
        after_server = cpu_of(workers)
        self.db_cpu.update(cpu_of([pid for pid, _, _ in self.backends(self.conn)]))
        run = run_holder[0]
        per_row = 1e6 / max(run.created, 1)
        run.cpu_us = {
            "gunicorn": delta(before_server, after_server) * per_row,
            "postgres": delta(before_db, self.db_cpu) * per_row,
            "wrk": (after_children.children_user - before_children.children_user + after_children.children_system
                    - before_children.children_system) * per_row,
        }  # fmt: skip
        if self.samples:
            run.lock_waiters = statistics.fmean(s[0] for s in self.samples)
            run.active = statistics.fmean(s[1] for s in self.samples)

    def close(self) -> None:
        self.conn.close()


def delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between the two readings; a process that appeared in between counts from zero."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def wait_idle(conn: psycopg.Connection, timeout: float = 30) -> None:
    """Until no backend of the bench database runs a statement: the requests cut off by wrk's stop finish."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND "
            "backend_type = 'client backend' AND state NOT IN ('idle')",
            [DB],
        ).fetchone()[0]
        if not busy:
            return
        time.sleep(0.05)


class Runner:
    """Runs wrk loads against one server and checks each run's 201s against the rows it created."""

    def __init__(self, server: Server, clients: int) -> None:
        self.server, self.clients = server, clients
        self.watch = Watch(server)
        self.workdir = Path(tempfile.mkdtemp(prefix="http-bench-"))
        self.runs = 0

    def run(self, name: str, load: Load, seconds: float, *, quiet: bool = False) -> HttpRun:
        """One measurement: ``clients`` connections over 2 wrk threads for ``seconds``."""
        self.runs += 1
        run_id = f"hb{os.getpid()}x{self.runs}x{secrets.token_hex(3)}"
        script = self.workdir / f"{run_id}.lua"
        script.write_text(load.script(run_id))
        args = ["wrk", "-t", str(min(2, self.clients)), "-c", str(self.clients), "-d", f"{seconds:g}s",
                "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{self.server.port}"]  # fmt: skip
        holder: list[HttpRun] = []
        with self.watch.around(holder):
            out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 120, check=False)
            if out.returncode:
                raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
            holder.append(parse_wrk(name, out.stdout))
        run = holder[0]
        run.rows, run.keys_without_entry = count_rows(load.kind, run_id)
        if not quiet:
            report_run(run)
        return run

    def close(self) -> None:
        self.watch.close()


def count_rows(kind: str, run_id: str) -> tuple[int, int]:
    """Business rows (payments or top-ups) whose entry was posted under this run's keys, and keys left
    without both an entry and its row (there must be none: the key, the entry and the row commit together)."""
    # "post": bench/drf_probe.py's post() alone, which writes an entry and no business row.
    table = {"payment": "ledger_payment", "topup": "agents_cashtopup", "post": "ledger_entry"}[kind]
    with psycopg.connect(lp.db_url(DB)) as conn:
        rows = conn.execute(
            f"SELECT count(r.id), count(*) FILTER (WHERE e.id IS NULL OR r.id IS NULL) FROM ledger_idempotencykey k "
            f"LEFT JOIN ledger_entry e ON e.id = k.entry_id LEFT JOIN {table} r "
            f"ON r.{'id' if kind == 'post' else 'entry_id'} = k.entry_id WHERE k.key LIKE %s",
            [run_id + "-%"],
        ).fetchone()
    return rows[0], rows[1]


def report_run(run: HttpRun) -> None:
    cpu = ", ".join(f"{side} {us:.0f}" for side, us in run.cpu_us.items())
    say(
        run.name,
        run.rate,
        f"/s (201s {run.created} in {run.seconds:.1f} s; p50 {run.p50_ms:.1f} ms, p90 {run.p90_ms:.1f}, "
        f"p99 {run.p99_ms:.1f}, max {run.max_ms:.0f}; other statuses {run.other}, socket errors "
        f"{run.socket_errors}; rows {run.rows}, in flight at stop {run.in_flight}; CPU us per row: {cpu}; "
        f"lock waiters {run.lock_waiters:.2f}, active backends {run.active:.2f})",
    )
    if run.samples:
        print("  first refusals:\n    " + run.samples.replace("\n", "\n    "), flush=True)


def run_consistent(run: HttpRun) -> bool:
    """Every 201 has its row; a row without a counted 201 only for a request cut off by wrk's stop."""
    return (
        run.other == 0
        and run.socket_errors == 0
        and run.keys_without_entry == 0
        and run.created <= run.rows <= run.created + run.in_flight
    )


# --- the service level: bench/ledger_post.py's post() workers -------------------------------------


def service_keys() -> int:
    with psycopg.connect(lp.db_url(DB)) as conn:
        return conn.execute("SELECT count(*) FROM ledger_idempotencykey WHERE scope = %s", [lp.POST_SCOPE]).fetchone()[
            0
        ]


class ServiceLevel:
    """ledger_post's worker pool (fee-payment-shaped post(), random revenue account) on our database."""

    def __init__(self, counts: Sequence[int]) -> None:
        self.keys_before = service_keys()  # a reused database holds earlier runs' posts
        self.pool = lp.WorkerPool(max(counts), DB, counts)

    def run(self, clients: int, seconds: float) -> lp.Measurement:
        return self.pool.run(lp.Job(("spread",), seconds, clients, 10))["spread"]

    @property
    def posted(self) -> int:
        return self.pool.posted_total

    def close(self) -> None:
        self.pool.close()


# --- figures and targets --------------------------------------------------------------------------

Figures = dict[str, list[float]]  # series -> one value per round


def record(figures: Figures, series: str, value: float) -> None:
    figures.setdefault(series, []).append(value)


def median_ratio(figures: Figures, top: str, bottom: str) -> tuple[float | None, list[float]]:
    """Round-by-round ratios, each of two figures measured back to back; their median."""
    values = [a / b for a, b in zip(figures.get(top, []), figures.get(bottom, []), strict=False) if b]
    return (statistics.median(values) if values else None), values


def verdict(name: str, value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return f"{name}: not measured"
    ok = value <= target if at_most else value >= target
    sign = "<=" if at_most else ">="
    return f"{name}: {value:.3f} (target {sign} {target:g}) {'PASS' if ok else 'MISS'}"


def summarize_medians(figures: Figures) -> list[str]:
    lines = []
    for series, values in figures.items():
        lines.append(
            f"median {series}: {statistics.median(values):.1f} (rounds: {', '.join(f'{v:.1f}' for v in values)})"
        )
    for line in lines:
        print(line, flush=True)
    return lines


# --- consistency ----------------------------------------------------------------------------------


def check_books(runs: Sequence[HttpRun], service: ServiceLevel | None) -> tuple[bool, list[str]]:
    """``verify()`` on the whole database, every HTTP run's counts, and the service-level posts vs the keys
    they claimed (``service`` None: no post() workers ran in this process)."""
    from ledger import verification

    report = verification.verify()
    lines = [f"verify: {line.strip()}" for line in report.lines()]
    service_ok = True
    if service is not None:
        keys = service_keys() - service.keys_before
        service_ok = service.posted == keys
        lines.append(f"service-level posts returned {service.posted}, keys claimed {keys}")
    bad = [r for r in runs if not run_consistent(r)]
    lines.append(
        f"HTTP runs: {len(runs)}; 201s {sum(r.created for r in runs)}, rows {sum(r.rows for r in runs)}, "
        f"cut off in flight {sum(r.in_flight for r in runs)}, other statuses {sum(r.other for r in runs)}, "
        f"keys without entry {sum(r.keys_without_entry for r in runs)}; runs failing the count check: {len(bad)}"
    )
    ok = report.ok and service_ok and not bad
    lines.append(f"books consistent: {'yes' if ok else 'NO'}")
    for line in lines:
        print(line, flush=True)
    return ok, lines


# --- profile --------------------------------------------------------------------------------------

# Frames whose share of the Python CPU is reported: "path:function" (function optional), matched in order.
INTERESTING = (
    "rest_framework/views.py:APIView.initial",
    "rest_framework/authentication.py",
    "erial/roles.py",
    "ledger/api.py:PaymentCreate.post",
    "ledger/wallets.py:find_wallet",
    "ledger/payments.py:pay_fee",
    "ledger/payments.py:fee_in_force",
    "agents/api.py:CashTopupCreate.post",
    "agents/services.py:record_cash_topup",
    "agents/selectors.py:terms_in_force",
    "agents/selectors.py:open_session_for",
    "agents/services.py:_running_totals",
    "agents/services.py:_insert_topup",
    "ledger/payments.py:service_by_code",
    "ledger/services.py:post",
    "ledger/services.py:_post_in_database",
    "rest_framework/serializers.py",
    "rest_framework/response.py",
    "django/db/models/sql/compiler.py",
    "django/db/models/base.py:Model.__init__",
    "django/db/backends/utils.py",
    "psycopg/",
    "django/core/handlers/base.py:BaseHandler.get_response",
)


def profile_run(runner: Runner, load: Load, seconds: float, name: str) -> list[str]:
    """One more run with py-spy sampling every gunicorn worker, only the thread holding the GIL: where the
    Python CPU goes, which is what the two cores run out of. Summarised as the share of those samples
    inside each interesting frame, and the hottest leaf frames."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return [f"profile: py-spy not found next to {sys.executable}"]
    outputs, procs = [], []
    for pid in runner.server.worker_pids():
        out = runner.workdir / f"{name}-{pid}.txt"
        outputs.append(out)
        cmd = [str(spy), "record", "--pid", str(pid), "--duration", str(int(seconds) + 2), "--rate", "200",
               "--format", "raw", "--gil", "--nonblocking", "--output", str(out)]  # fmt: skip
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    time.sleep(1.0)
    run = runner.run(f"profiled_{name}", load, seconds)
    for proc in procs:
        proc.wait(timeout=seconds + 60)
    return summarize_profile(outputs, run, name)


def summarize_profile(outputs: Sequence[Path], run: HttpRun, name: str) -> list[str]:
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in outputs:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            frames = stack.split(";")
            leaves[short_frame(frames[-1])] += count
            for label in INTERESTING:
                if any(label_matches(label, frame) for frame in frames):
                    inclusive[label] += count
    lines = [f"profile {name}: {total} samples of gunicorn worker threads holding the GIL (py-spy --gil, 200 Hz); "
             f"{run.rate:.0f}/s under py-spy; raw stacks in {outputs[0].parent if outputs else '-'}"]  # fmt: skip
    lines += [f"  {100 * n / max(total, 1):5.1f} % in {label}" for label, n in inclusive.most_common()]
    lines.append("  top leaf frames (self time):")
    lines += [f"  {100 * n / max(total, 1):5.1f} % {frame}" for frame, n in leaves.most_common(15)]
    for line in lines:
        print(line, flush=True)
    return lines


def short_frame(frame: str) -> str:
    match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    return f"{function} ({'/'.join(path.split('/')[-2:])})"


def label_matches(label: str, frame: str) -> bool:
    path, _, function = label.partition(":")
    return path in frame and (not function or frame.startswith(function + " "))


# --- results --------------------------------------------------------------------------------------


def append_results(path: Path | None, heading: str, body: Sequence[str], level: int = 2) -> None:
    """Append our section to RESULTS.md (another benchmark writes its own sections: never rewrite)."""
    if path is None:
        return
    existing = path.read_text() if path.exists() else ""  # re-read right before writing
    with path.open("a", encoding="utf-8") as out:
        if not existing:
            out.write("# Benchmark results\n")
        out.write(f"\n{'#' * level} {heading}\n\n" + "\n".join(body).rstrip() + "\n")
    say("results_appended_to", str(path.relative_to(REPO_ROOT)))


def fenced(lines: Sequence[str]) -> list[str]:
    return ["```", *lines, "```"]


# --- main -----------------------------------------------------------------------------------------


def warm_up(runner: Runner, load: Load) -> None:
    """Every worker imports, connects and fills its caches before anything is measured."""
    runner.run("warm_up", load, 3, quiet=True)


def sweep(cfg: Config, fixture: Fixture) -> list[str]:
    """Payments under each server set-up, twice in mirrored order, to pick the workers for 2 cores."""
    load = payments_load(fixture)
    figures: dict[str, list[HttpRun]] = {}
    for spec_text in [*cfg.sweep, *reversed(cfg.sweep)]:
        spec = ServerSpec.parse(spec_text)
        with Server(spec, fixture.service_token) as server:
            runner = Runner(server, cfg.clients)
            try:
                warm_up(runner, load)
                figures.setdefault(str(spec), []).append(runner.run(f"sweep_{spec}", load, cfg.seconds))
            finally:
                runner.close()
    lines = []
    for spec, runs in figures.items():
        rates = ", ".join(f"{r.rate:.1f}" for r in runs)
        lines.append(
            f"{spec}: {statistics.median(r.rate for r in runs):.1f} payments/s (runs {rates}), p99 "
            f"{statistics.median(r.p99_ms for r in runs):.0f} ms, gunicorn CPU "
            f"{statistics.median(r.cpu_us['gunicorn'] for r in runs):.0f} us per payment"
        )
        print(f"sweep {lines[-1]}", flush=True)
    return lines


def payment_rounds(cfg: Config, runner: Runner, service: ServiceLevel, load: Load) -> tuple[Figures, list[HttpRun]]:
    """Per round: HTTP payments, then post() at each worker count; every other round in reverse order,
    so a steady drift in the neighbours' load does not favour one side."""
    figures: Figures = {}
    runs: list[HttpRun] = []
    steps: list[tuple[str, int]] = [("http", cfg.clients), *(("service", n) for n in cfg.service_clients)]
    for round_no in range(1, cfg.rounds + 1):
        for what, clients in steps if round_no % 2 else list(reversed(steps)):
            if what == "http":
                run = runner.run(f"http_payments_c{clients}_r{round_no}", load, cfg.seconds)
                runs.append(run)
                record(figures, f"http_payments_c{clients}", run.rate)
                record(figures, f"http_p50_ms_c{clients}", run.p50_ms)
                record(figures, f"http_p99_ms_c{clients}", run.p99_ms)
                for side, us in run.cpu_us.items():
                    record(figures, f"http_cpu_us_{side}", us)
            else:
                m = service.run(clients, cfg.seconds)
                record(figures, f"service_posts_c{clients}", m.rate)
                record(figures, f"service_cpu_us_python_c{clients}", m.python_us)
                if m.db_us is not None:
                    record(figures, f"service_cpu_us_postgres_c{clients}", m.db_us)
                errors = f", errors {dict(m.errors)}" if m.errors else ""
                cpu = f"python {m.python_us:.0f}, postgres {m.db_us or 0:.0f}"
                say(f"service_posts_c{clients}_r{round_no}", m.rate, f"posts/s (CPU us per post: {cpu}{errors})")
        if other_benchmarks():
            say(f"note_round_{round_no}", "another benchmark was running during this round")
    return figures, runs


def payment_targets(cfg: Config, figures: Figures) -> list[str]:
    lines = []
    c = cfg.clients
    for n in cfg.service_clients:
        value, values = median_ratio(figures, f"http_payments_c{c}", f"service_posts_c{n}")
        rounds = ", ".join(f"{v:.3f}" for v in values)
        label = "same concurrency" if n == c else "the service level's peak concurrency"
        lines.append(
            verdict(f"HTTP payments at {c} / service-level post() at {n} ({label}), median of rounds [{rounds}]",
                    value, TARGET_HTTP_VS_SERVICE)
        )  # fmt: skip
    p99 = figures.get(f"http_p99_ms_c{c}")
    lines.append(verdict(f"p99 latency at {c} clients, median of rounds (ms)",
                         statistics.median(p99) if p99 else None, TARGET_P99_MS, at_most=True))  # fmt: skip
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv, __doc__.split("\n\n")[0])
    started = time.monotonic()
    fixture = prepare(cfg)
    if cfg.sweep:
        share = wait_for_quiet(cfg.wait_minutes)
        head = header(cfg)
        lines = sweep(cfg, fixture)
        body = [f"Command: `{cfg.command}`", "", *fenced([*head, share, *lines])]
        append_results(cfg.results, "HTTP fee payments (issue 3): choosing the gunicorn workers", body, level=3)
        return 0
    service = ServiceLevel(cfg.service_clients)
    load = payments_load(fixture)
    profile: list[str] = []
    try:
        share = wait_for_quiet(cfg.wait_minutes)
        head = header(cfg)
        with Server(ServerSpec.parse(cfg.server), fixture.service_token) as server:
            runner = Runner(server, cfg.clients)
            try:
                warm_up(runner, load)
                figures, runs = payment_rounds(cfg, runner, service, load)
                if cfg.profile:
                    profile = profile_run(runner, load, cfg.seconds, "payments")
            finally:
                runner.close()
    finally:
        service.close()
    medians = summarize_medians(figures)
    targets = payment_targets(cfg, figures)
    ok, checks = check_books(runs, service)
    print("\nTargets:")
    for line in targets:
        print(f"  {line}")
    say("total_seconds", time.monotonic() - started, "s")
    body = [f"Command: `{cfg.command}`", "", *fenced([*head, share, *medians, "", "Targets:", *targets, "",
            *checks, *profile])]  # fmt: skip
    append_results(cfg.results, "HTTP fee payments (issue 3)", body)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
