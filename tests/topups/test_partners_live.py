"""Partners over real HTTP (PostgreSQL, live server): parallel retries, and the simulators end to end."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

from erial.roles import Role
from ledger.models import Entry, EntryKind
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import make_user, open_wallet
from tests.factories import D
from tests.parallel import in_parallel
from topups import services
from topups.models import OnlineTopup
from topups.simulators import send_callback

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def new_topup(channel: str, amount: str = "12.000") -> OnlineTopup:
    wallet = open_wallet(user=make_user(Role.CUSTOMER))
    return services.initiate(wallet=wallet, amount=D(amount), channel=channel, actor=wallet.holder.user)


def test_the_same_callback_delivered_twenty_times_in_parallel_credits_once(live_server):
    topup = new_topup("card")
    url = f"{live_server.url}/api/v1/callbacks/card/"

    outcomes = in_parallel(
        20,
        lambda i: send_callback(
            callback_url=url,
            channel="card",
            reference=topup.reference,
            amount="12.000",
            status="authorised",
            partner_txn_id="GW-77",
            nonce="same-delivery",
        ),
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    assert {o.value[0] for o in outcomes} == {200}
    assert balance(topup.wallet.account) == D("12.000")
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1
    assert verify().ok


@pytest.mark.parametrize(
    ("channel", "decision", "status", "credited"),
    [
        ("bank", "authorise", "completed", "9.500"),
        ("card", "authorise", "completed", "9.500"),
        ("card", "decline", "failed", "0.000"),
    ],
)
def test_simulator_pays_and_calls_back_over_http(live_server, channel, decision, status, credited):
    topup = new_topup(channel, "9.500")
    form = urllib.parse.urlencode(
        {"reference": topup.reference, "amount": "9.500", "decision": decision, "return_url": "/"}
    ).encode()
    page = (
        urllib.request.urlopen(
            f"{live_server.url}/simulators/{channel}/pay/?reference={topup.reference}&amount=9.500", timeout=10
        )
        .read()
        .decode()
    )
    assert topup.reference in page and "9.500 OMR" in page
    urllib.request.urlopen(
        urllib.request.Request(f"{live_server.url}/simulators/{channel}/pay/", data=form), timeout=20
    ).read()
    topup = OnlineTopup.objects.select_related("wallet__account").get(pk=topup.pk)  # protected FSM: re-read
    assert topup.status == status
    assert balance(topup.wallet.account) == D(credited)
