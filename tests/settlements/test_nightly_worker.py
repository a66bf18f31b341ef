"""The nightly job through a real Celery worker on a real broker (RabbitMQ on these machines).

The test process enqueues the task on the broker; a separate ``celery worker`` process, connected to the
same PostgreSQL test database, runs it. Skipped, saying why, when no broker answers.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from erial.celery import app
from ledger.businessday import today
from ledger.selectors import balance
from settlements.models import ReconciliationRun
from settlements.tasks import nightly_reconciliation
from tests.factories import D, system
from tests.settlements.statements import camt053
from tests.settlements.test_reconciliation import paid_online

BROKER = os.environ.get("ERIAL_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REPO = Path(__file__).resolve().parents[2]


def broker_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=2).close()
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not broker_answers(), reason="no RabbitMQ at 127.0.0.1:5672 (start: rabbitmq-server -detached)"),
]


@pytest.fixture
def worker(tmp_path, settings):
    """A real worker process on the test database, consuming a queue of its own."""
    queue = f"erial-test-{os.getpid()}-{time.monotonic_ns()}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "ERIAL_INBOX_DIR": str(tmp_path),
        "ERIAL_VAR_DIR": str(tmp_path / "var"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "erial",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    settings.ERIAL_INBOX_DIR = tmp_path
    yield queue, process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_the_nightly_task_runs_on_a_real_worker_and_reconciles_the_day(worker, tmp_path):
    queue, process = worker
    yesterday = today() - dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - dt.timedelta(days=1)):
        topup = paid_online("bank", "13.250")
    (tmp_path / "bank").mkdir()
    camt053(tmp_path / "bank" / "statement.xml", yesterday, [(topup.reference, Decimal("13.250"))], sequence=1)

    # Sent on a connection of its own to the real broker: the test settings run tasks eagerly in-process.
    with app.connection_for_write(BROKER) as conn:
        conn.ensure_connection(max_retries=3)
        app.send_task(nightly_reconciliation.name, queue=queue, connection=conn)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run = ReconciliationRun.objects.filter(business_day=yesterday, source="bank").first()
        if run and run.status == "completed":
            break
        if process.poll() is not None:
            pytest.fail(f"the worker died:\n{process.stdout.read()}")
        time.sleep(0.5)
    else:
        process.terminate()
        pytest.fail(f"the worker did not reconcile in time:\n{process.communicate(timeout=20)[0][-4000:]}")
    assert run.open_exceptions == 0 and run.matched == 1
    assert balance(system("bank")) == D("13.250") and balance(system("bank_clearing")) == D("0.000")
    assert (tmp_path / "bank" / "processed" / "statement.xml").exists()
