"""The ceiling of any fee-payment endpoint in Django REST framework, against ``post()`` itself (issue 3).

Issue 3 asks for HTTP payments at >= 0.5 of the service-level ``post()`` rate. This benchmark asks what the
best DRF endpoint could reach: ``POST /bench/post-only/`` (``bench/drf_probe.py``) is ``post()`` behind DRF
and nothing else (the project's token authentication and role check, the JSON body parsed, one fee-payment
``post()``, a 201), served by the same gunicorn set-up as the payments benchmark. A real payment does more
(validates the amount, finds the wallet and the service, reads the fee in force, writes its row), so it can
only be slower. If this ceiling is under 0.5 of ``post()``, no payment endpoint in DRF can reach the target.

Per round, in rotating order, 10 s each: the probe, the real ``POST /api/v1/payments/`` (same server), and
``bench/ledger_post.py``'s ``post()`` workers at the same concurrency; median of the per-round ratios. Then
``verify()`` and every run's 201s against what it wrote (http_payments.py's checks).

Run from the repository root: ``.venv/bin/python bench/http_post_ceiling.py`` (flags as http_payments.py;
``--quick`` for a smoke run). Prints figures and ratios; write them into bench/RESULTS.md by hand.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import http_payments as hp  # noqa: E402  (needs the path above)

PROBE_PATH = "/bench/post-only/"
PROBE_SETTINGS = "drf_probe_settings"


def rounds(
    cfg: hp.Config, runner: hp.Runner, service: hp.ServiceLevel, loads: dict[str, hp.Load]
) -> tuple[hp.Figures, list[hp.HttpRun]]:
    figures: hp.Figures = {}
    runs: list[hp.HttpRun] = []
    steps = [*loads, "service"]
    for round_no in range(1, cfg.rounds + 1):
        shift = (round_no - 1) % len(steps)
        for step in steps[shift:] + steps[:shift]:
            if step == "service":
                m = service.run(cfg.clients, cfg.seconds)
                hp.record(figures, "service_posts", m.rate)
                hp.say(f"service_posts_c{cfg.clients}_r{round_no}", m.rate, "posts/s")
                continue
            run = runner.run(f"{step}_c{cfg.clients}_r{round_no}", loads[step], cfg.seconds)
            runs.append(run)
            hp.record(figures, step, run.rate)
            hp.record(figures, f"{step}_p99_ms", run.p99_ms)
            for side, us in run.cpu_us.items():
                hp.record(figures, f"{step}_cpu_us_{side}", us)
        if hp.other_benchmarks():
            hp.say(f"note_round_{round_no}", "another benchmark was running during this round")
    return figures, runs


def ratios(figures: hp.Figures) -> list[str]:
    lines = []
    for top, bottom, label in (
        ("http_post_only", "service_posts", "ceiling: post() behind DRF / post()"),
        ("http_payments", "service_posts", "HTTP payments / post()"),
        ("http_payments", "http_post_only", "HTTP payments / the DRF ceiling"),
    ):
        value, values = hp.median_ratio(figures, top, bottom)
        shown = f"{value:.3f}" if value is not None else "not measured"
        lines.append(f"{label}: {shown} (rounds {', '.join(f'{v:.3f}' for v in values)})")
    print("\n".join(lines), flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    cfg = hp.parse_args(argv, __doc__.split("\n\n")[0])
    started = time.monotonic()
    fixture = hp.prepare(cfg)
    payments = hp.payments_load(fixture)
    loads = {
        "http_post_only": hp.Load("post", PROBE_PATH, payments.tokens, payments.accounts, payments.low, payments.high),
        "http_payments": payments,
    }
    service = hp.ServiceLevel((cfg.clients,))
    try:
        hp.wait_for_quiet(cfg.wait_minutes)
        hp.header(cfg)
        with hp.Server(hp.ServerSpec.parse(cfg.server), fixture.service_token, PROBE_SETTINGS) as server:
            runner = hp.Runner(server, cfg.clients)
            try:
                for load in loads.values():
                    hp.warm_up(runner, load)
                figures, runs = rounds(cfg, runner, service, loads)
            finally:
                runner.close()
    finally:
        service.close()
    hp.summarize_medians(figures)
    ratios(figures)
    ok, _checks = hp.check_books(runs, service)
    hp.say("total_seconds", time.monotonic() - started, "s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
