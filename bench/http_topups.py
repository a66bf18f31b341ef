"""Cash top-ups per second through the API: spread over 50 offices, all into one float, beside fee payments.

Issue 4. What it measures, and why this way (bench/http_payments.py has the set-up, server and load):

- ``POST /api/v1/topups/cash/`` from 16 concurrent cashiers, each request signed by a random office's
  cashier (one cashier and one float per office, 50 offices): "spread".
- The same from 16 cashiers of one external agent: every top-up debits the same float, a hot account
  with a floor (the agent's credit limit), so its balance row is locked by each top-up until commit:
  "same float". How long that lock is held decides this figure; the run shows it three ways: the
  backends waiting on a lock (sampled every 20 ms), the statements a top-up runs while it holds the
  float (captured in-process on the same database), and, with ``--profile``, py-spy on the workers.
- ``POST /api/v1/payments/`` in the same run, on the same server: the figure top-ups are judged against.
- Interleaved in rotating order, median of >= 3 rounds; then ``verify()`` and the 201s against the rows.

Run from the repository root: ``.venv/bin/python bench/http_topups.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import http_payments as hp  # noqa: E402  (needs the path above)

# Targets from issue 4.
TARGET_SPREAD_VS_PAYMENTS = 0.9
TARGET_SAME_VS_SPREAD = 0.5
TOPUP_PATH = "/api/v1/topups/cash/"


def spread_load(fixture: hp.Fixture) -> hp.Load:
    """One cashier per office, a random office per request: 16 clients over 50 floats."""
    tokens = [fixture.cashier_tokens[code][0] for code in fixture.offices]
    return hp.Load("topup", TOPUP_PATH, tokens, fixture.wallets, 1, 49)


def same_float_load(fixture: hp.Fixture) -> hp.Load:
    """The 16 cashiers of the first office: every top-up debits its one float."""
    tokens = fixture.cashier_tokens[fixture.offices[0]][: hp.SAME_OFFICE_CASHIERS]
    return hp.Load("topup", TOPUP_PATH, tokens, fixture.wallets, 1, 49)


def topup_rounds(cfg: hp.Config, runner: hp.Runner, loads: dict[str, hp.Load]) -> tuple[hp.Figures, list[hp.HttpRun]]:
    """Per round the three loads back to back, the order rotated each round (no load always goes first,
    right after another one warmed the caches or left the neighbours' load higher)."""
    figures: hp.Figures = {}
    runs: list[hp.HttpRun] = []
    names = list(loads)
    for round_no in range(1, cfg.rounds + 1):
        shift = (round_no - 1) % len(names)
        for name in names[shift:] + names[:shift]:
            run = runner.run(f"{name}_c{cfg.clients}_r{round_no}", loads[name], cfg.seconds)
            runs.append(run)
            hp.record(figures, name, run.rate)
            hp.record(figures, f"{name}_p99_ms", run.p99_ms)
            hp.record(figures, f"{name}_lock_waiters", run.lock_waiters)
            for side, us in run.cpu_us.items():
                hp.record(figures, f"{name}_cpu_us_{side}", us)
        if hp.other_benchmarks():
            hp.say(f"note_round_{round_no}", "another benchmark was running during this round")
    return figures, runs


def topup_targets(figures: hp.Figures) -> list[str]:
    lines = []
    for top, bottom, target, label in (
        ("topups_spread", "http_payments", TARGET_SPREAD_VS_PAYMENTS, "top-ups spread over 50 floats / payments"),
        ("topups_same_float", "topups_spread", TARGET_SAME_VS_SPREAD, "top-ups into one float / spread"),
    ):
        value, values = hp.median_ratio(figures, top, bottom)
        lines.append(hp.verdict(f"{label}, median of rounds [{', '.join(f'{v:.3f}' for v in values)}]", value, target))
    return lines


class LockSpan:
    """A Django execute wrapper timing one request's statements and how long its first lock is held: from the
    start of the statement that takes it (``ledger_post(...)``, which locks the floored balances on PostgreSQL,
    or a ``FOR UPDATE``) to the commit (``on_commit`` runs right after it)."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.statements: list[tuple[float, str, bool]] = []  # seconds, SQL, issued while the lock was held
        self.locked_at: float | None = None
        self.committed_at: float | None = None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        if self.locked_at is None and ("FOR UPDATE" in sql or "ledger_post(" in sql):
            self.locked_at = started
            self.connection.on_commit(self.mark_commit)
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - started, sql, self.locked_at is not None))

    def mark_commit(self) -> None:
        self.committed_at = time.perf_counter()

    @property
    def held_ms(self) -> float:
        if self.locked_at is None or self.committed_at is None:
            return float("nan")
        return (self.committed_at - self.locked_at) * 1000


def statements_under_lock(fixture: hp.Fixture, repeat: int = 30) -> list[str]:
    """Top-ups into the hot float and payments through the full stack in-process (Django's test client on
    the bench database, one client, nothing else queued): how long the float (or wallet) row stays locked,
    and the statements issued meanwhile, from the ``FOR UPDATE`` to the commit. Under 16 clients on two
    cores the holder is also descheduled while holding it; this is the floor of that time."""
    from django.db import connection
    from django.test import Client

    lines = []
    for label, path, token, body in lock_cases(fixture):
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
        spans: list[LockSpan] = []
        for i in range(repeat):
            span = LockSpan()
            with connection.execute_wrapper(span):
                response = client.post(
                    path, body(i), content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"lock-{time.time_ns()}"
                )
            if response.status_code != 201:
                raise RuntimeError(f"{label}: HTTP {response.status_code} {response.content[:300]!r}")
            spans.append(span)
        last = spans[-1]
        under = [(seconds, sql) for seconds, sql, locked in last.statements if locked]
        in_sql = sum(seconds for seconds, _ in under) * 1000
        lines.append(
            f"{label}: {len(last.statements)} statements (+ COMMIT); lock held "
            f"{statistics.median(s.held_ms for s in spans):.2f} ms (median of {repeat}, one client), "
            f"{len(under)} statements while held, {in_sql:.2f} ms of it inside them (last request):"
        )
        lines += [f"    {seconds * 1000:6.2f} ms  {shorten(sql)}" for seconds, sql in under]
    for line in lines:
        print(line, flush=True)
    return lines


def lock_cases(fixture: hp.Fixture) -> list[tuple[str, str, str, Callable[[int], dict[str, str]]]]:
    wallets = fixture.wallets
    return [
        (
            "top-up into the hot float",
            TOPUP_PATH,
            fixture.cashier_tokens[fixture.offices[0]][0],
            lambda i: {"account": wallets[i * 7 % len(wallets)], "amount": "10.000"},
        ),
        (
            "fee payment",
            "/api/v1/payments/",
            fixture.service_token,
            lambda i: {
                "account": wallets[i * 7 % len(wallets)],
                "service": hp.SERVICES[0],
                "bill_reference": f"L{time.time_ns()}",
                "amount": "1.000",
            },
        ),
    ]


def shorten(sql: str, width: int = 150) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    cfg = hp.parse_args(argv, __doc__.split("\n\n")[0])
    started = time.monotonic()
    fixture = hp.prepare(cfg)
    loads = {
        "topups_spread": spread_load(fixture),
        "topups_same_float": same_float_load(fixture),
        "http_payments": hp.payments_load(fixture),
    }
    profile: list[str] = []
    share = hp.wait_for_quiet(cfg.wait_minutes)
    head = hp.header(cfg)
    with hp.Server(hp.ServerSpec.parse(cfg.server), fixture.service_token) as server:
        runner = hp.Runner(server, cfg.clients)
        try:
            for load in loads.values():
                hp.warm_up(runner, load)
            figures, runs = topup_rounds(cfg, runner, loads)
            if cfg.profile:
                profile = hp.profile_run(runner, loads["topups_same_float"], cfg.seconds, "topups_same_float")
                profile += hp.profile_run(runner, loads["topups_spread"], cfg.seconds, "topups_spread")
        finally:
            runner.close()
    medians = hp.summarize_medians(figures)
    targets = topup_targets(figures)
    lock = statements_under_lock(fixture)
    ok, checks = hp.check_books(runs, None)
    print("\nTargets:")
    for line in targets:
        print(f"  {line}")
    hp.say("total_seconds", time.monotonic() - started, "s")
    body = [f"Command: `{cfg.command}`", "", *hp.fenced([*head, share, *medians, "", "Targets:", *targets, "",
            *lock, "", *checks, *profile])]  # fmt: skip
    hp.append_results(cfg.results, "Cash top-ups (issue 4)", body)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
