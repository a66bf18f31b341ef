"""Running work on real parallel database connections (one per thread), released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection

#: Bounds for waiting on other threads: generous, so only a real hang or queue trips them.
START_TIMEOUT = 20
FINISH_TIMEOUT = 45


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def in_parallel(count: int, work: Callable[[int], Any]) -> list[Outcome]:
    """Run ``work(i)`` in ``count`` threads, each on its own connection, released together by a barrier."""
    barrier = threading.Barrier(count)
    outcomes = [Outcome() for _ in range(count)]

    def run(i: int) -> None:
        try:
            connection.ensure_connection()  # connect first, so the race is over the ledger, not the login
            barrier.wait(timeout=START_TIMEOUT)
            outcomes[i].value = work(i)
        except BaseException as error:
            outcomes[i].error = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=FINISH_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "threads still running: a hang or a deadlock"
    return outcomes


def errors_of(outcomes: list[Outcome]) -> list[type[BaseException]]:
    return [type(o.error) for o in outcomes if not o.ok]
