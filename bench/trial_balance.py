"""Benchmark of the trial balance (``reports.trial_balance``) over a ledger of at least 1,000,000 postings.

What it measures, and why this way (design.md §6): the trial balance is one aggregate statement over
``ledger_posting``, so the figure that holds from machine to machine is its time against the cheapest possible pass
over the same rows, measured in the same run: one plain ``SELECT account_id, sum(amount) FROM ledger_posting GROUP
BY account_id`` (fetched, as ours is). The two are timed in interleaved rounds (these machines are noisy), ours as
the whole Python call (the statement, the lines, their names and order); the median of the per-round ratios is the
verdict, target <= 1.5. The detailed form (one line per account) and "now" are timed beside it for information.

The database (``erial_bench_tb``) is built once with ``bench/ledger_post.py``'s set-based loaders (wallets, a
top-up each, then fee payments over the past 30 days, three postings each) and reused by later runs while it still
holds enough postings; ``--rebuild`` starts afresh.

Run from the repository root: ``.venv/bin/python bench/trial_balance.py`` (``--postings 30000`` for a smoke run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from ledger_post import (  # bench/ is the script's folder: its loaders are reused, not copied
    create_wallets,
    db_url,
    load_payment_history,
    recreate_database,
    say,
    setup_django,
    vacuum_analyze,
)

DATABASE = "erial_bench_tb"
TARGET = 1.5
PLAIN_SQL = "SELECT account_id, sum(amount) FROM ledger_posting GROUP BY account_id"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000, help="at least this many postings (1,000,000)")
    parser.add_argument("--wallets", type=int, default=10_000, help="customer wallets when building (10,000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds, at least 3 (5)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    args = parser.parse_args(argv)
    args.rounds = max(args.rounds, 3)
    return args


def existing_postings() -> int | None:
    """Postings in the bench database, or None when there is no usable one."""
    try:
        with psycopg.connect(db_url(DATABASE), connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM ledger_posting").fetchone()[0]
    except psycopg.Error:
        return None


def build(postings: int, wallets: int) -> None:
    """A fresh database: migrations, wallets with a top-up each, then enough fee payments, and two offices."""
    from django.core.management import call_command

    history = max(0, -(-(postings - 2 * wallets) // 3))  # three postings per payment, rounded up
    recreate_database(DATABASE)
    call_command("migrate", verbosity=0, interactive=False)
    create_wallets(wallets)
    load_payment_history(wallets, history)
    add_offices()
    vacuum_analyze()


def add_offices() -> None:
    """A directorate (cash drawer) and an agent (float, commission payable), so every kind of line is there."""
    from agents.services import create_office

    for code, kind in (("BENCH-HQ", "internal"), ("BENCH-AG", "external")):
        create_office(code=code, name_en=f"Bench {kind}", name_ar="مكتب", kind=kind, actor=None, wilayat="Seeb")


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def plain() -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(PLAIN_SQL)
        return cursor.fetchall()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    say("date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    say("machine", f"{os.cpu_count()} CPUs, {sys.platform}, Python {sys.version.split()[0]}")
    with psycopg.connect(db_url("postgres")) as conn:
        say("postgres", conn.execute("SHOW server_version").fetchone()[0])
    say("load_average_1m_at_start", os.getloadavg()[0])

    found = None if args.rebuild else existing_postings()
    setup_django(DATABASE)
    if found is None or found < args.postings:
        build(args.postings, args.wallets)
        say("built_seconds", time.monotonic() - started, "s")
    else:
        say("reused_database", DATABASE)

    from django.db import connection

    from ledger.businessday import day_bounds, today
    from ledger.sealing import seal_through
    from reports.trial_balance import _aggregate, _lines, trial_balance

    sealing = time.monotonic()
    sealed = seal_through()  # as the nightly job does: every finished day sealed, today's postings not yet
    if sealed:
        say("sealed_days", len(sealed))
        say("sealing_seconds", time.monotonic() - sealing, "s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT account_id) FROM ledger_posting")
        postings, accounts = cursor.fetchone()
    say("postings", postings)
    say("accounts_with_postings", accounts)

    as_of = today() - dt.timedelta(days=1)
    checked = trial_balance(as_of)
    say("trial_balance_lines", len(checked.lines))
    say("trial_balance_balanced", str(checked.balanced))
    whole = trial_balance()
    covers = whole.ledger.postings == postings and sum(line.postings for line in whole.lines) == postings
    say("trial_balance_now_covers_every_posting", str(covers))

    until = day_bounds(as_of)[1]
    runs: dict[str, Callable[[], Any]] = {
        "plain_group_by": plain,
        "trial_balance_as_of": lambda: trial_balance(as_of),
        "trial_balance_now": trial_balance,
        "trial_balance_detailed": lambda: trial_balance(as_of, detailed=True),
        # As if nothing were sealed yet (a new installation): the scan then adds up the debits too.
        "trial_balance_unsealed_path": lambda: _lines(_aggregate(until, None, detailed=False)),
    }
    for run in runs.values():  # warm the caches once: every round then reads the same pages
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for round_no in range(1, args.rounds + 1):
        order = names if round_no % 2 else names[::-1]  # alternate who goes first
        for name in order:
            times[name].append(timed(runs[name]))
        for name in names:
            say(f"round_{round_no}_{name}", times[name][-1] * 1000, "ms")
    for name in names:
        say(f"median_{name}", statistics.median(times[name]) * 1000, "ms")
    ratios = {
        name: [ours / ref for ours, ref in zip(times[name], times["plain_group_by"], strict=True)] for name in names[1:]
    }
    for name, values in ratios.items():
        say(f"ratio_{name}_vs_plain", "  ".join(f"{v:.3f}" for v in values))
        say(f"median_ratio_{name}_vs_plain", statistics.median(values))
    verdict = statistics.median(ratios["trial_balance_as_of"])
    ok = verdict <= TARGET and checked.balanced and covers
    print(f"\nTarget: trial balance <= {TARGET}x one plain GROUP BY over the postings: {verdict:.3f} -> "
          f"{'PASS' if verdict <= TARGET else 'MISS'}")  # fmt: skip
    say("load_average_1m_at_end", os.getloadavg()[0])
    say("total_seconds", time.monotonic() - started, "s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
