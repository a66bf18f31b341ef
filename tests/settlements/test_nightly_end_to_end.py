"""A whole day end to end, over real HTTP: customers start online top-ups through the API, pay them on the bank's
and the card gateway's simulators (which call back, signed, as the partners do), the partners' camt.053
statement and settlement CSV land in the inbox, and the nightly job at 01:00 leaves nothing unexplained."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.parse
import urllib.request
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from erial.roles import Role
from ledger.businessday import business_zone, today
from ledger.models import DaySeal, Entry, EntryKind
from ledger.selectors import balance
from settlements.models import (
    ExceptionStatus,
    GatewayBatch,
    LineStatus,
    ReconciliationRun,
    ReconException,
    StatementLine,
)
from settlements.nightly import run_nightly
from tests.api.conftest import make_user, open_wallet
from tests.factories import D, system
from tests.settlements.test_nightly_job import camt053_over_days
from topups.models import OnlineTopup, TopupStatus

# A live server answers in threads of its own: the test's rows must be committed for it to see them.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

GATEWAY_FEE = D("0.015")  # 1.5 % of the gross, rounded to the baisa


class Customer:
    """A customer with a wallet and an API token, speaking to the live server as the portal or an app would."""

    def __init__(self, base_url: str) -> None:
        self.user = make_user(Role.CUSTOMER)
        self.wallet = open_wallet(user=self.user)
        self.base_url = base_url
        self.token = Token.objects.get_or_create(user=self.user)[0].key

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())

    def top_up_online(self, channel: str, amount: str) -> OnlineTopup:
        """Start the top-up through the API, then pay it on the partner's page (the simulator over HTTP)."""
        status, started = self.api(
            "POST", "/api/v1/topups/online/", {"account": self.wallet.number, "amount": amount, "channel": channel}
        )
        assert status == 201 and started["status"] == "initiated", started
        pay_url = urllib.parse.urljoin(self.base_url, started["redirect_url"])
        page = urllib.request.urlopen(pay_url, timeout=20).read().decode()
        assert started["reference"] in page and f"{amount} OMR" in page
        form = {"reference": started["reference"], "amount": amount, "decision": "authorise", "return_url": "/"}
        # The simulator POSTs its signed callback to /api/v1/callbacks/<channel>/ before it sends the browser back.
        pay = urllib.request.Request(pay_url.split("?")[0], data=urllib.parse.urlencode(form).encode())
        urllib.request.urlopen(pay, timeout=30).read()
        status, after = self.api("GET", f"/api/v1/topups/online/{started['id']}/")
        assert (status, after["status"], after["amount"], after["channel"]) == (200, "completed", amount, channel)
        return OnlineTopup.objects.select_related("entry").get(pk=started["id"])


def write_gateway_csv(path, batch_id: str, payout_reference: str, topups: list[OnlineTopup]) -> Decimal:
    """The gateway's settlement report: a TXN row per card payment (its own partner_txn_id, as it called back
    with), then the BATCH row paid out on the last day. Returns the net paid."""
    rows = ["record_type,batch_id,reference,partner_txn_id,transaction_date,gross,fee,net,currency"]
    gross_total = fee_total = Decimal("0.000")
    for topup in topups:
        fee = (topup.amount * GATEWAY_FEE).quantize(Decimal("0.001"))
        day = topup.entry.business_day
        rows.append(f"TXN,{batch_id},{topup.reference},{topup.partner_txn_id},{day},{topup.amount},{fee},"
                    f"{topup.amount - fee},OMR")  # fmt: skip
        gross_total, fee_total = gross_total + topup.amount, fee_total + fee
    last_day = max(topup.entry.business_day for topup in topups)
    net = gross_total - fee_total
    rows.append(f"BATCH,{batch_id},{payout_reference},,{last_day},{gross_total},{fee_total},{net},OMR")
    path.write_text("\n".join(rows) + "\n")
    return net


def test_a_day_of_online_top_ups_through_the_simulators_is_reconciled_by_the_night_with_nothing_unexplained(
    live_server, tmp_path, settings
):
    settings.ERIAL_INBOX_DIR = tmp_path
    aisha, salim = Customer(live_server.url), Customer(live_server.url)
    bank_topups = [aisha.top_up_online("bank", "25.000"), salim.top_up_online("bank", "7.125")]
    card_topups = [aisha.top_up_online("card", "40.000"), salim.top_up_online("card", "12.500")]
    topups = bank_topups + card_topups
    # Credited by the partners' signed callbacks: each carries the transaction id the simulator gave it.
    assert all(t.status == TopupStatus.COMPLETED for t in topups)
    assert [t.partner_txn_id.split("-")[0] for t in topups] == ["BANK", "BANK", "CARD", "CARD"]
    assert balance(aisha.wallet.account) == D("65.000") and balance(salim.wallet.account) == D("19.625")
    assert aisha.api("GET", f"/api/v1/accounts/{aisha.wallet.number}/")[1]["balance"] == "65.000"
    assert balance(system("bank_clearing")) == D("32.125") and balance(system("gateway_clearing")) == D("52.500")

    # The partners' files, each line booked on the business day its top-up was credited (the day, unless the
    # test ran across midnight), dropped into the inbox as the partners' transfers do.
    (tmp_path / "bank").mkdir()
    (tmp_path / "gateway").mkdir()
    net = write_gateway_csv(tmp_path / "gateway" / "settlement.csv", "B-E2E-1", "GWPAYOUT-E2E-1", card_topups)
    last_day = max(t.entry.business_day for t in topups)
    camt053_over_days(
        tmp_path / "bank" / "statement.xml",
        [(t.entry.business_day, t.reference, t.amount) for t in bank_topups] + [(last_day, "GWPAYOUT-E2E-1", net)],
        sequence=1,
    )

    # The nightly job, as beat starts it at 01:00 Asia/Muscat the next morning.
    night = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(1, 0), tzinfo=business_zone())
    with mock.patch("django.utils.timezone.now", return_value=night):
        assert today() == last_day + dt.timedelta(days=1)
        report = run_nightly()

    assert report.imported == ["settlement.csv", "statement.xml"] and report.refused == []
    assert report.business_day == last_day and str(last_day) in report.days_reconciled
    assert {run["status"] for run in report.runs} == {"completed"}
    assert report.open_exceptions == 0
    assert not ReconException.objects.filter(status__in=[ExceptionStatus.OPEN, ExceptionStatus.PROPOSED]).exists()
    assert not ReconException.objects.exists()  # nothing had to be explained at all
    assert set(StatementLine.objects.values_list("status", flat=True)) == {LineStatus.MATCHED}
    assert StatementLine.objects.filter(settled_entry__isnull=True).count() == 0
    assert ReconciliationRun.objects.filter(business_day=last_day).count() == 2
    # Every top-up's entry is on exactly one line; the batch is paid and settled; the clearing accounts are empty.
    assert sorted(StatementLine.objects.filter(matched_entry__kind=EntryKind.ONLINE_TOPUP).values_list(
        "matched_entry_id", flat=True)) == sorted(t.entry_id for t in topups)  # fmt: skip
    batch = GatewayBatch.objects.get(batch_id="B-E2E-1")
    assert batch.settlement_entry_id is not None and batch.bank_line.reference == "GWPAYOUT-E2E-1"
    assert batch.net == net and batch.gross == D("52.500")
    assert balance(system("bank_clearing")) == D("0.000") and balance(system("gateway_clearing")) == D("0.000")
    assert balance(system("bank")) == D("32.125") + net
    assert balance(system("gateway_fee_expense")) == D("52.500") - net
    assert Entry.objects.filter(kind=EntryKind.SETTLEMENT).count() >= 2
    assert DaySeal.objects.filter(business_day=last_day).exists()
    assert report.books_balance
    assert (tmp_path / "bank" / "processed" / "statement.xml").exists()
    assert (tmp_path / "gateway" / "processed" / "settlement.csv").exists()

    out = io.StringIO()
    call_command("verify_ledger", stdout=out)  # raises CommandError (exit 1) if any check fails
    assert out.getvalue().rstrip().endswith("The books balance.")
    assert "FAIL" not in out.getvalue()
