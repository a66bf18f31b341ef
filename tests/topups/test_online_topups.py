"""Online top-ups: initiate, signed partner callbacks (every refusal), idempotent retries, expiry."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

import pytest
from django.test import Client
from django.utils import timezone

from erial.roles import Role
from ledger.models import Entry, EntryKind
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import D, system
from topups import services, signing
from topups.models import OnlineTopup, RejectedCallback
from topups.tasks import expire_stale_topups

pytestmark = pytest.mark.django_db
SECRETS = {"bank": "dev-bank-secret", "card": "dev-gateway-secret"}


def start(channel="card", amount="15.000"):
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    client = client_for(owner)
    response = client.post(
        "/api/v1/topups/online/", {"account": wallet.number, "amount": amount, "channel": channel}, format="json"
    )
    assert response.status_code == 201, response.content
    return client, wallet, response.json()


def callback(
    channel,
    *,
    reference,
    amount="15.000",
    status="authorised",
    currency="OMR",
    nonce=None,
    partner_txn_id="PTX-1",
    secret=None,
    timestamp=None,
    body=None,
    header=None,
):
    raw = (
        body
        if body is not None
        else json.dumps(
            {
                "reference": reference,
                "status": status,
                "amount": amount,
                "currency": currency,
                "partner_txn_id": partner_txn_id,
                "nonce": nonce or secrets.token_hex(8),
            }
        ).encode()
    )
    if header is None:
        header = signing.signature_header(raw, secret or SECRETS[channel], timestamp)
    extra = {"HTTP_X_ERIAL_SIGNATURE": header} if header else {}
    return Client().post(f"/api/v1/callbacks/{channel}/", raw, content_type="application/json", **extra)


def test_initiate_returns_a_reference_and_where_to_pay():
    _, wallet, body = start("bank", "20.500")
    assert body["status"] == "initiated" and body["reference"].startswith("OT")
    assert "/simulators/bank/pay/" in body["redirect_url"] and "amount=20.500" in body["redirect_url"]
    assert balance(wallet.account) == D("0.000")


@pytest.mark.parametrize("channel", ["bank", "card"])
def test_an_authorised_callback_credits_the_wallet_once_against_clearing(channel):
    client, wallet, body = start(channel)
    first = callback(channel, reference=body["reference"], nonce="n-1")
    assert first.status_code == 200 and first.json()["status"] == "completed"
    again = callback(channel, reference=body["reference"], nonce="n-1")  # the partner retrying, same message
    assert again.status_code == 200
    other_nonce = callback(channel, reference=body["reference"], nonce="n-2")  # a fresh delivery
    assert other_nonce.status_code == 200
    assert balance(wallet.account) == D("15.000")
    clearing = "bank_clearing" if channel == "bank" else "gateway_clearing"
    assert balance(system(clearing)) == D("15.000")
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1
    assert client.get(f"/api/v1/topups/online/{body['id']}/").json()["status"] == "completed"
    assert verify().ok


def test_a_failed_callback_credits_nothing():
    _, wallet, body = start()
    assert callback("card", reference=body["reference"], status="failed").json()["status"] == "failed"
    assert balance(wallet.account) == D("0.000")


@pytest.mark.parametrize(
    ("kwargs", "status", "why"),
    [
        ({"secret": "wrong-secret"}, 401, "does not match"),
        ({"header": ""}, 401, "missing"),
        ({"header": "t=abc,v1=00"}, 401, "malformed"),
        ({"age": 301}, 401, "away from now"),
        ({"age": -400}, 401, "away from now"),
        ({"amount": "15.001"}, 400, "does not match"),
        ({"currency": "USD"}, 400, "OMR only"),
        ({"reference": "OT000000000000"}, 400, "No online top-up"),
        ({"status": "maybe"}, 400, "authorised or failed"),
        ({"body": b"not json"}, 400, "not JSON"),
        ({"body": b'{"reference": "x"}'}, 400, "exactly the fields"),
        ({"partner_txn_id": "PTX-١٢٣"}, 400, "printable ASCII"),  # would be printed on the receipt
        ({"partner_txn_id": "PTX\n1"}, 400, "printable ASCII"),
        ({"partner_txn_id": "P" * 65}, 400, "printable ASCII"),
    ],
)
def test_refused_callbacks_credit_nothing_and_are_flagged_for_finance(kwargs, status, why):
    _, wallet, body = start()
    kwargs.setdefault("reference", body["reference"])
    if "age" in kwargs:  # signed that many seconds ago (negative: in the future), measured now, not at collection
        kwargs["timestamp"] = int(time.time()) - kwargs.pop("age")
    response = callback("card", **kwargs)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json") and why in response.json()["detail"]
    assert balance(wallet.account) == D("0.000")
    assert RejectedCallback.objects.filter(reason__contains=why).exists()
    assert OnlineTopup.objects.get(pk=body["id"]).status == "initiated"


def test_a_nonce_reused_on_a_different_body_is_refused():
    _, _wallet, body = start()
    callback("card", reference=body["reference"], status="failed", nonce="same")
    _, other_wallet, other = start()
    response = callback("card", reference=other["reference"], nonce="same")
    assert response.status_code == 400 and "Nonce" in response.json()["detail"]
    assert balance(other_wallet.account) == D("0.000")


def test_a_callback_on_the_wrong_channel_is_refused():
    _, wallet, body = start("bank")
    assert callback("card", reference=body["reference"]).status_code == 400
    assert balance(wallet.account) == D("0.000")


def test_failure_after_completion_is_refused_and_the_credit_stays():
    _, wallet, body = start()
    callback("card", reference=body["reference"])
    response = callback("card", reference=body["reference"], status="failed")
    assert response.status_code == 400
    assert balance(wallet.account) == D("15.000")


def test_stale_top_ups_expire_and_a_late_authorisation_still_credits():
    _, wallet, body = start()
    OnlineTopup.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert expire_stale_topups.delay().get() == 1
    assert OnlineTopup.objects.get(pk=body["id"]).status == "expired"
    assert callback("card", reference=body["reference"]).json()["status"] == "completed"
    assert balance(wallet.account) == D("15.000")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"amount": "1.0001", "channel": "card"}, "invalid_amount"),
        ({"amount": "5.000", "channel": "cash"}, "invalid_request"),
    ],
)
def test_bad_initiations_are_400(payload, code):
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    response = client_for(owner).post("/api/v1/topups/online/", {"account": wallet.number, **payload}, format="json")
    assert_problem(response, 400, code)
    assert not OnlineTopup.objects.exists()


def test_a_customer_cannot_top_up_or_read_someone_elses_wallet():
    _, wallet, body = start()
    stranger = client_for(make_user(Role.CUSTOMER))
    assert_problem(stranger.get(f"/api/v1/topups/online/{body['id']}/"), 404, "not_found")
    response = stranger.post(
        "/api/v1/topups/online/", {"account": wallet.number, "amount": "1.000", "channel": "card"}, format="json"
    )
    assert_problem(response, 404, "not_found")


def test_signature_helpers_round_trip():
    raw = b'{"a": 1}'
    header = signing.signature_header(raw, "s", 1_700_000_000)
    assert signing.verify(header, raw, "s", now=1_700_000_100) == 1_700_000_000
    with pytest.raises(signing.BadSignature):
        signing.verify(header, raw + b" ", "s", now=1_700_000_100)
    assert services.CallbackRefused("x").status == 400


# --- starting a top-up is safe to retry ------------------------------------------------------------


def test_a_start_retried_with_its_key_returns_the_same_top_up_and_another_body_is_a_conflict():
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    client = client_for(owner)
    body = {"account": wallet.number, "amount": "15.000", "channel": "card"}
    first = client.post("/api/v1/topups/online/", body, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    again = client.post("/api/v1/topups/online/", body, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["reference"] == first.json()["reference"]
    other = {**body, "amount": "16.000"}
    conflict = client.post("/api/v1/topups/online/", other, format="json", HTTP_IDEMPOTENCY_KEY="start-1")
    assert_problem(conflict, 409, "idempotency_conflict")
    assert OnlineTopup.objects.filter(wallet=wallet.pk).count() == 1
    # keys are the client's own: another customer's same key starts their own top-up
    stranger = make_user(Role.CUSTOMER)
    theirs = open_wallet(user=stranger)
    response = client_for(stranger).post(
        "/api/v1/topups/online/", {**body, "account": theirs.number}, format="json", HTTP_IDEMPOTENCY_KEY="start-1"
    )
    assert response.status_code == 201 and response.json()["id"] != first.json()["id"]
    # without a key every start is a new top-up (as api.md has it: starting moves no money)
    client.post("/api/v1/topups/online/", body, format="json")
    assert OnlineTopup.objects.filter(wallet=wallet.pk).count() == 2
    bad = client.post("/api/v1/topups/online/", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert_problem(bad, 400, "invalid_request")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_with_one_key_make_one_top_up():
    from tests.parallel import errors_of, in_parallel

    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)

    def start_once(_: int):
        return services.initiate(
            wallet=wallet, amount=D("5.000"), channel="bank", actor=owner, idempotency_key="same", scope="t"
        )

    results = in_parallel(8, start_once)
    assert errors_of(results) == []
    assert len({outcome.value.pk for outcome in results}) == 1
    assert sum(not outcome.value.replayed for outcome in results) == 1
    assert OnlineTopup.objects.filter(wallet=wallet.pk).count() == 1
