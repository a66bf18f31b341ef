"""Benchmark of the customer statement PDF: 10,000 movements, against reportlab drawing the same lines as plain text.

What it measures, and why this way (design.md §6; issue 6):

- ours: ``reports.statements.statement_data`` + ``render_statement`` for one period of a wallet with 10,000
  movements: the whole production path (the three queries, the rows streamed from the database, Arabic shaping
  and bidi, the page plan, totals carried forward, the QR code, the signed verification code).
- the floor: a bare reportlab ``Canvas`` drawing the same 10,000 lines (the English text of each row: date,
  description, amounts) with one ``drawString`` each, in Helvetica (a standard font: nothing embedded), on as
  many A4 pages as ours: no shaping, no queries (the lines are read before the clock starts). No PDF writer can
  do the same lines for less, so the ratio to it is the figure that holds from machine to machine; the same
  lines in DejaVu Sans (the font the statement embeds) are timed beside it for information.

Each measurement runs in a fresh subprocess (Django set up, the URLconf loaded and the fonts registered before
the clock starts, as in a web worker), so the process's peak memory (``VmHWM``, the whole process, nothing
subtracted) belongs to that one statement. The kinds alternate within each round (ours, floor, floor in DejaVu)
and rounds repeat (these machines are noisy); the verdict is the median of the per-round ratios of wall-clock
times, target <= 3, and the highest peak of ours, target <= 300 MB. CPU seconds of each process are printed
beside them: they swing less with the neighbours' load.

The database (``erial_bench_stmt``) is built once and reused while its wallet is there (``--rebuild`` starts
afresh): migrations, one wallet opened by ``ledger.wallets.open_wallet``, and its history loaded set-based like
``bench/ledger_post.py`` does (entries, postings with their balance after, idempotency keys, cached balances):
an opening top-up before the period, then the movements spread over the period, in a fixed mix: online top-ups
from the bank, fee payments (wallet -> revenue + fee income, memo "<service> <bill>"), and full refunds of some
payments pointing at them (half of their reasons in Arabic). ``ledger.verification.verify()`` proves the books
after the load.

Run from the repository root: ``.venv/bin/python bench/statement_pdf.py`` (``--lines 500 --rounds 1`` for a smoke
run; ``--profile out.txt`` also profiles one render of ours with cProfile).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from ledger_post import (  # bench/ is the script's folder: its helpers are reused, not copied
    UUID7_SQL,
    db_url,
    recreate_database,
    say,
    setup_django,
    vacuum_analyze,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "erial_bench_stmt"
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 300.0
# The period: in the past, so it stays valid (a statement ends at the latest today) whenever the bench runs.
START = dt.date(2025, 7, 1)
END = dt.date(2025, 12, 31)
NATIONAL_ID = "990000000001"
NAME_EN = "Salim bin Hamad Al-Harthy"
NAME_AR = "سالم بن حمد الحارثي"
SITE = "https://e-rial.om"
OPENING = Decimal("500.000")
FEE = Decimal("0.100")
ARABIC_REASON = "إلغاء المخالفة بعد التظلم"
BILL_SERVICES = ("parking_fine", "lease_renewal", "parking_permit", "municipal_licence", "building_permit")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=10_000, help="movements in the period (10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--keep", type=Path, help="write our last PDF here")
    parser.add_argument("--profile", type=Path, help="profile one render of ours (cProfile), top functions here")
    parser.add_argument("--child", choices=("ours", "floor", "floor_ttf", "profile"), help=argparse.SUPPRESS)
    parser.add_argument("--lines-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the wallet and its history ---------------------------------------------------------------------------


def wallet_number(lines: int) -> str | None:
    """The bench wallet's number when the database holds it with ``lines`` movements in the period."""
    try:
        with psycopg.connect(db_url(DATABASE), connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT w.number, (SELECT count(*) FROM ledger_posting p WHERE p.account_id = w.account_id) "
                "FROM ledger_wallet w JOIN ledger_holder h ON h.id = w.holder_id WHERE h.national_id = %s",
                [NATIONAL_ID],
            ).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row and row[1] == lines + 1 else None  # the opening top-up and the period's movements


def build(lines: int) -> str:
    """A fresh database with the bench wallet and its history; returns the wallet's number."""
    from django.core.management import call_command

    from ledger.models import OpeningChannel
    from ledger.wallets import open_wallet

    recreate_database(DATABASE)
    call_command("migrate", verbosity=0, interactive=False)
    wallet = open_wallet(
        holder_type="individual",
        national_id=NATIONAL_ID,
        phone="+96891234567",
        channel=OpeningChannel.OFFICE,
        name_en=NAME_EN,
        name_ar=NAME_AR,
    )
    load_history(wallet.account_id, lines)
    vacuum_analyze()
    return wallet.number


def history(lines: int) -> list[tuple[int, str, dt.datetime, str, int | None, list[tuple[str, Decimal]]]]:
    """The entries as (seq, kind, time, memo, seq of the entry it reverses, legs by account code): the opening
    top-up, then ``lines`` movements over the period. Out of every ten: two top-ups, seven payments and the
    full refund of the payment before it; the balance only grows, so no floor is ever crossed."""
    from ledger.businessday import day_bounds

    since, until = day_bounds(START)[0], day_bounds(END)[1]
    step = (until - since) / (lines + 1)
    out: list[Any] = [
        (0, "online_topup", since - dt.timedelta(days=3), "Online top-up (Bank transfer) OT000000000000", None,
         [("bank_clearing", OPENING), ("W", -OPENING)]),
    ]  # fmt: skip
    paid: dict[int, tuple[str, Decimal]] = {}
    for n in range(1, lines + 1):
        when = since + n * step
        slot = n % 10
        if slot in (1, 6):
            amount = Decimal(40_000 + (n * 7919) % 30_000).scaleb(-3)
            memo = f"Online top-up (Bank transfer) OT{n:012X}"
            out.append((n, "online_topup", when, memo, None, [("bank_clearing", amount), ("W", -amount)]))
        elif slot == 0 and n - 1 in paid:
            service, amount = paid[n - 1]
            reason = ARABIC_REASON if n % 20 == 0 else "Fine cancelled on appeal"
            legs = [("W", -(amount + FEE)), (f"revenue.{service}", amount), ("fee_income", FEE)]
            out.append((n, "refund", when, reason, n - 1, legs))
        else:
            service = BILL_SERVICES[n % len(BILL_SERVICES)]
            amount = Decimal(1_000 + (n * 104_729) % 12_000).scaleb(-3)
            paid[n] = (service, amount)
            memo = f"{SERVICE_NAMES[service]} F-{n:06d}"
            legs = [("W", amount + FEE), (f"revenue.{service}", -amount), ("fee_income", -FEE)]
            out.append((n, "fee_payment", when, memo, None, legs))
    return out


SERVICE_NAMES: dict[str, str] = {}

LEG_TABLE = """
CREATE TEMPORARY TABLE bench_stmt_entry (
  seq bigint PRIMARY KEY, kind varchar(24) NOT NULL, created_at timestamptz NOT NULL, memo varchar(255) NOT NULL,
  reverses_seq bigint, h text NOT NULL
) ON COMMIT DROP;
CREATE TEMPORARY TABLE bench_stmt_leg (
  seq bigint NOT NULL, leg smallint NOT NULL, account_id bigint NOT NULL, amount numeric(18,3) NOT NULL
) ON COMMIT DROP
"""

MATERIALIZE = [
    "ALTER TABLE bench_stmt_entry ADD COLUMN id uuid",
    f"UPDATE bench_stmt_entry SET id = {UUID7_SQL.format(t='created_at', h='h')}",
    """
    INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata, reverses_id)
    SELECT e.id, e.kind, e.created_at, (e.created_at AT TIME ZONE 'Asia/Muscat')::date, e.memo, '{}'::jsonb, r.id
    FROM bench_stmt_entry e LEFT JOIN bench_stmt_entry r ON r.seq = e.reverses_seq ORDER BY e.seq
    """,
    # balance_after (normal sign) for accounts that track it: the cached balance before plus the running sum.
    """
    INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, balance_after, created_at)
    SELECT e.id, l.account_id, l.amount, 'OMR',
           CASE WHEN a.tracks_balance THEN b.balance + s.sign * sum(l.amount)
                OVER (PARTITION BY l.account_id ORDER BY l.seq) END,
           e.created_at
    FROM bench_stmt_leg l
    JOIN bench_stmt_entry e USING (seq)
    JOIN ledger_account a ON a.id = l.account_id
    CROSS JOIN LATERAL (SELECT CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS sign) s
    LEFT JOIN ledger_accountbalance b ON b.account_id = l.account_id
    ORDER BY l.seq, l.leg
    """,
    """
    INSERT INTO ledger_idempotencykey (scope, key, fingerprint, entry_id, created_at)
    SELECT 'bench.statement', id::text, encode(sha256(id::text::bytea), 'hex'), id, created_at FROM bench_stmt_entry
    """,
    """
    UPDATE ledger_accountbalance b
    SET balance = b.balance + t.delta, updated_at = now()
    FROM (SELECT l.account_id, sum(l.amount) * CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS delta
          FROM bench_stmt_leg l JOIN ledger_account a ON a.id = l.account_id
          GROUP BY l.account_id, a.kind) t
    WHERE b.account_id = t.account_id
    """,
]


def load_history(wallet_account_id: int, lines: int) -> None:
    """One transaction: the entries and their legs into temporary tables, then set-based into the ledger. The
    ledger's deferred guards (two or more postings, zero sum) and foreign keys are checked at its commit."""
    from django.db import connection, transaction

    from ledger.models import Account, Service

    SERVICE_NAMES.update(Service.objects.values_list("code", "name_en"))
    accounts = dict(Account.objects.filter(owner_kind="system").values_list("code", "id"))
    accounts["W"] = wallet_account_id
    entries = history(lines)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in LEG_TABLE.split(";"):
            cursor.execute(statement)
        cursor.executemany(
            "INSERT INTO bench_stmt_entry (seq, kind, created_at, memo, reverses_seq, h) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(seq, kind, when, memo, rev, os.urandom(16).hex()) for seq, kind, when, memo, rev, _ in entries],
        )
        cursor.executemany(
            "INSERT INTO bench_stmt_leg (seq, leg, account_id, amount) VALUES (%s, %s, %s, %s)",
            [
                (seq, n, accounts[code], amount)
                for seq, *_, legs in entries
                for n, (code, amount) in enumerate(legs, start=1)
            ],
        )
        for sql in MATERIALIZE:
            cursor.execute(sql)


# --- the measurements (each in a fresh subprocess) --------------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory so far: VmHWM, the whole process, in MB. Not ``ru_maxrss``: on
    Linux it survives ``exec`` and would report the parent's peak at the fork when that is higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def warm() -> None:
    """What a web worker has done before it serves a statement: the URLconf loaded, the fonts registered."""
    from django.urls import resolve

    from reports.pdf import register_fonts

    resolve("/")
    register_fonts()


def child_ours(number: str, out: Path | None) -> dict[str, Any]:
    """statement_data + render_statement, timed; Django, the modules and the fonts ready beforehand."""
    from ledger.wallets import find_wallet
    from reports.statements import render_statement, statement_data

    warm()
    wallet = find_wallet(number)
    started, cpu = time.perf_counter(), time.process_time()
    data = statement_data(wallet, START, END)
    pdf = render_statement(data, site_url=SITE)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if out:
        out.write_bytes(pdf)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_mb(),
        "bytes": len(pdf),
        "pages": pdf.count(b"/Type /Page\n"),
    }


def floor_lines(number: str) -> list[str]:
    """The English text of every row, as ours prints it (the date in Muscat, the description, the amounts)."""
    from ledger.businessday import business_zone
    from ledger.wallets import find_wallet
    from reports import labels
    from reports.pdf import has_arabic
    from reports.statements import statement_data

    zone = business_zone()
    lines = []
    for m in statement_data(find_wallet(number), START, END).movements():
        label = labels.MOVEMENT.get(m.kind, labels.OTHER_MOVEMENT)[0]
        description = label if not m.memo or has_arabic(m.memo) else f"{label}: {m.memo}"
        debit, credit = (f"{m.debit:.3f}" if m.debit else ""), (f"{m.credit:.3f}" if m.credit else "")
        day = m.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{day}   {description}   {debit:>12} {credit:>12} {m.balance_after:>12.3f}")
    return lines


def child_floor(lines: list[str], ttf: bool) -> dict[str, Any]:
    """reportlab drawing ``lines``: one drawString each, on as many A4 pages as the statement has."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from reports.pdf import REGULAR, register_fonts
    from reports.statement_pdf import plan_pages

    plan = plan_pages(len(lines))
    font = "Helvetica"
    if ttf:
        register_fonts()
        font = REGULAR
    started, cpu = time.perf_counter(), time.process_time()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    rows = iter(lines)
    for count in plan:
        canvas.setFont(font, 7.2)
        y = A4[1] - 120
        for _ in range(count):
            canvas.drawString(40, y, next(rows))
            y -= 11
        canvas.showPage()
    canvas.save()
    pdf = buffer.getvalue()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_mb(),
        "bytes": len(pdf),
        "pages": pdf.count(b"/Type /Page\n"),
    }


def child_profile(number: str, out: Path) -> dict[str, Any]:
    import cProfile
    import pstats

    from ledger.wallets import find_wallet
    from reports.statements import render_statement, statement_data

    warm()
    wallet = find_wallet(number)
    profiler = cProfile.Profile()
    profiler.enable()
    render_statement(statement_data(wallet, START, END), site_url=SITE)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(35)
    out.write_text(text.getvalue())
    return {"profile": str(out)}


def child_main(args: argparse.Namespace) -> int:
    setup_django(DATABASE)
    number = os.environ["BENCH_STATEMENT_WALLET"]
    if args.child == "ours":
        result = child_ours(number, args.out)
    elif args.child == "profile":
        result = child_profile(number, args.out)
    else:
        lines = json.loads(args.lines_file.read_text())
        result = child_floor(lines, ttf=args.child == "floor_ttf")
    print(json.dumps(result))
    return 0


def run_child(kind: str, number: str, extra: Sequence[str] = ()) -> dict[str, Any]:
    env = {**os.environ, "BENCH_STATEMENT_WALLET": number}
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, *extra], env=env, capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the run ----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    started = time.monotonic()
    say("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    say("machine", f"{os.cpu_count()} CPUs, {sys.platform}, Python {sys.version.split()[0]}")
    say("load_average_1m_at_start", os.getloadavg()[0])
    setup_django(DATABASE)
    number = None if args.rebuild else wallet_number(args.lines)
    if number is None:
        number = build(args.lines)
        say("built_seconds", time.monotonic() - started, "s")
        from ledger.verification import verify

        report = verify()
        say("books_verified", "ok" if report.ok else "; ".join(report.findings))
        if not report.ok:
            return 1
    else:
        say("reused_database", DATABASE)
    say("wallet", number)
    say("period", f"{START} to {END}")
    os.environ["BENCH_STATEMENT_WALLET"] = number
    lines = floor_lines(number)
    say("movements", len(lines))
    lines_file = REPO_ROOT / "var" / "bench" / "statement-lines.json"
    lines_file.parent.mkdir(parents=True, exist_ok=True)
    lines_file.write_text(json.dumps(lines))
    from django.db import connection

    connection.close()  # the children connect on their own

    kinds = ("ours", "floor", "floor_ttf")
    results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for round_ in range(1, args.rounds + 1):
        for kind in kinds:
            extra = ["--lines-file", str(lines_file)] if kind != "ours" else []
            if kind == "ours" and args.keep and round_ == args.rounds:
                extra = ["--out", str(args.keep)]
            result = run_child(kind, number, extra)
            results[kind].append(result)
            say(f"round{round_}_{kind}_seconds", result["seconds"], "s")
            say(f"round{round_}_{kind}_cpu_seconds", result["cpu"], "s")
            say(f"round{round_}_{kind}_peak_memory", result["peak_mb"], "MB")
        say(f"round{round_}_load_average_1m", os.getloadavg()[0])
    say("pages_ours", results["ours"][-1]["pages"])
    say("pages_floor", results["floor"][-1]["pages"])
    say("bytes_ours", results["ours"][-1]["bytes"])
    for kind in kinds:
        say(f"median_{kind}_seconds", statistics.median(r["seconds"] for r in results[kind]), "s")
    ratios = [o["seconds"] / f["seconds"] for o, f in zip(results["ours"], results["floor"], strict=True)]
    ratios_ttf = [o["seconds"] / f["seconds"] for o, f in zip(results["ours"], results["floor_ttf"], strict=True)]
    ratio = statistics.median(ratios)
    cpu_ratios = [o["cpu"] / f["cpu"] for o, f in zip(results["ours"], results["floor"], strict=True)]
    peak = max(r["peak_mb"] for r in results["ours"])
    say("ratio_per_round", ", ".join(f"{r:.2f}" for r in ratios))
    say("ratio_ours_vs_floor_median", ratio)
    say("ratio_ours_vs_floor_dejavu_median (information)", statistics.median(ratios_ttf))
    say("cpu_ratio_ours_vs_floor_median (information: our process only, not PostgreSQL)", statistics.median(cpu_ratios))
    say("peak_memory_ours_max", peak, "MB")
    ok_ratio, ok_peak = ratio <= TARGET_RATIO, peak <= TARGET_PEAK_MB
    say("target_ratio", f"{ratio:.2f} <= {TARGET_RATIO}: {'PASS' if ok_ratio else 'MISS'}")
    say("target_peak_memory", f"{peak:.0f} MB <= {TARGET_PEAK_MB:.0f} MB: {'PASS' if ok_peak else 'MISS'}")
    if args.profile:
        say("profile", run_child("profile", number, ["--out", str(args.profile)])["profile"])
    say("load_average_1m_at_end", os.getloadavg()[0])
    say("total_seconds", time.monotonic() - started, "s")
    return 0 if ok_ratio and ok_peak else 1


if __name__ == "__main__":
    sys.exit(main())
