"""Online top-ups into a wallet that is not active: refused cleanly (422 account_inactive), never a 500.

A wallet frozen (or closed) after its top-up was started makes the ledger refuse the credit. The partner's
callback is then refused with nothing written but the RejectedCallback finance works from; the top-up stays
creditable, so once the wallet is unfrozen the partner's retry of the same callback credits it exactly once.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from erial.errors import AccountInactive
from erial.roles import Role
from ledger import services as ledger_services
from ledger import wallets
from ledger.models import Entry, EntryKind
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import D, system
from tests.topups.test_online_topups import SECRETS, callback, start
from topups import services, signing
from topups.models import CallbackNonce, OnlineTopup, RejectedCallback

pytestmark = pytest.mark.django_db
CLEARING = {"bank": "bank_clearing", "card": "gateway_clearing"}


def freeze(wallet):
    return wallets.freeze_wallet(wallet=wallet, actor=make_user(Role.FINANCE), reason="Court order")


def unfreeze(wallet):
    return wallets.unfreeze_wallet(wallet=wallet, actor=make_user(Role.FINANCE), reason="Order lifted")


def delivery(reference, *, nonce="n-1", partner_txn_id="PTX-1", amount="15.000", status="authorised"):
    """One callback body exactly as the partner sends it, to deliver (and redeliver) byte for byte."""
    return json.dumps(
        {
            "reference": reference,
            "status": status,
            "amount": amount,
            "currency": "OMR",
            "partner_txn_id": partner_txn_id,
            "nonce": nonce,
        }
    ).encode()


def deliver(channel, raw):
    return callback(channel, reference="", body=raw)  # signed afresh, as a retrying partner does


def assert_untouched(topup_id):
    topup = OnlineTopup.objects.get(pk=topup_id)
    assert topup.status == "initiated"
    assert topup.partner_txn_id == "" and topup.entry_id is None and topup.receipt_number is None


# --- the partner's callback --------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["bank", "card"])
def test_a_callback_for_a_wallet_frozen_after_starting_is_a_clean_422_with_nothing_credited(channel, ledger_snapshot):
    _, wallet, body = start(channel)
    freeze(wallet)
    before = ledger_snapshot()
    raw = delivery(body["reference"])
    response = deliver(channel, raw)
    problem = assert_problem(response, 422, "account_inactive")
    assert f"Account {wallet.number} is frozen" in problem["detail"]
    assert "not credited" in problem["detail"] and body["reference"] in problem["detail"]
    assert ledger_snapshot() == before
    assert balance(wallet.account) == D("0.000") and balance(system(CLEARING[channel])) == D("0.000")
    assert not Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).exists()
    assert_untouched(body["id"])
    assert not CallbackNonce.objects.filter(channel=channel, nonce="n-1").exists()  # the whole attempt undone
    rejected = RejectedCallback.objects.get()
    assert rejected.channel == channel and rejected.reference == body["reference"]
    assert rejected.reason.startswith(f"Account {wallet.number} is frozen: the top-up was not credited")
    assert rejected.body == raw.decode() and not rejected.reviewed
    assert verify().ok


@pytest.mark.parametrize("channel", ["bank", "card"])
def test_after_unfreezing_the_same_callback_again_credits_exactly_once(channel):
    client, wallet, body = start(channel)
    freeze(wallet)
    raw = delivery(body["reference"])
    assert_problem(deliver(channel, raw), 422, "account_inactive")
    assert_problem(deliver(channel, raw), 422, "account_inactive")  # the partner retries while still frozen
    assert RejectedCallback.objects.count() == 2
    assert_untouched(body["id"])

    unfreeze(wallet)
    credited = deliver(channel, raw)  # the same delivery: not a replay of anything already processed
    assert credited.status_code == 200, credited.content
    assert credited.json() == {"reference": body["reference"], "status": "completed"}
    again = deliver(channel, raw)
    assert again.status_code == 200 and again.json()["status"] == "completed"

    topup = OnlineTopup.objects.get(pk=body["id"])
    assert topup.status == "completed" and topup.partner_txn_id == "PTX-1" and topup.receipt_number
    assert balance(wallet.account) == D("15.000")
    assert balance(system(CLEARING[channel])) == D("15.000")
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1
    assert CallbackNonce.objects.filter(channel=channel, nonce="n-1").count() == 1
    assert RejectedCallback.objects.count() == 2  # the retries after unfreezing refused nothing
    assert client.get(f"/api/v1/topups/online/{body['id']}/").json()["status"] == "completed"
    assert verify().ok


def test_after_unfreezing_a_fresh_delivery_of_the_same_payment_also_credits_once():
    _, wallet, body = start("card")
    freeze(wallet)
    assert_problem(deliver("card", delivery(body["reference"], nonce="first")), 422, "account_inactive")
    unfreeze(wallet)
    assert deliver("card", delivery(body["reference"], nonce="second")).json()["status"] == "completed"
    assert deliver("card", delivery(body["reference"], nonce="first")).json()["status"] == "completed"
    assert balance(wallet.account) == D("15.000")
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1
    assert verify().ok


def test_a_callback_for_a_wallet_closed_after_starting_is_a_clean_422(ledger_snapshot):
    _, wallet, body = start("bank")
    wallets.close_wallet(wallet=wallet, actor=make_user(Role.FINANCE), reason="Holder left", idempotency_key="c-1")
    before = ledger_snapshot()
    response = deliver("bank", delivery(body["reference"]))
    problem = assert_problem(response, 422, "account_inactive")
    assert f"Account {wallet.number} is closed: the top-up was not credited and cannot be" in problem["detail"]
    assert "once the account is active" not in problem["detail"]  # closed is final: no false promise
    assert ledger_snapshot() == before
    assert_untouched(body["id"])
    assert RejectedCallback.objects.get().reason.startswith(f"Account {wallet.number} is closed")
    assert verify().ok


def test_a_card_payment_for_a_closed_wallet_surfaces_in_the_reconciliation_for_finance():
    """What the refusal promises: the partner's payment, never credited, is an exception finance works."""
    from ledger.businessday import today
    from settlements.models import ExceptionKind, ReconException
    from settlements.reconciliation import reconcile_day
    from tests.settlements.test_reconciliation import statement

    _, wallet, body = start("card")
    wallets.close_wallet(wallet=wallet, actor=make_user(Role.FINANCE), reason="Holder left", idempotency_key="c-2")
    assert_problem(deliver("card", delivery(body["reference"])), 422, "account_inactive")
    day, fee = today(), D("0.300")
    statement(
        "gateway",
        day,
        [{"amount": "14.700", "gross": D("15.000"), "fee": fee, "reference": body["reference"], "batch_id": "B-9"}],
        batches=[{"batch_id": "B-9", "gross": D("15.000"), "fee": fee, "net": D("14.700")}],
    )
    run = reconcile_day(day=day, source="gateway")
    exception = ReconException.objects.get(kind=ExceptionKind.UNMATCHED_LINE)
    assert run.open_exceptions >= 1 and body["reference"] in exception.detail
    assert balance(wallet.account) == D("0.000")  # still never credited
    assert verify().ok


def test_an_account_blocked_in_the_ledger_alone_is_refused_in_the_ledgers_words():
    _, wallet, body = start("card")
    ledger_services.set_active(account=wallet.account, active=False)  # wallet still "active"
    problem = assert_problem(deliver("card", delivery(body["reference"])), 422, "account_inactive")
    assert problem["detail"].startswith(f"Account {wallet.account.code} is blocked")
    assert "The top-up was not credited" in problem["detail"]
    assert_untouched(body["id"])
    ledger_services.set_active(account=wallet.account, active=True)
    assert deliver("card", delivery(body["reference"])).json()["status"] == "completed"
    assert balance(wallet.account) == D("15.000")


def test_a_failed_callback_for_a_frozen_wallet_is_still_recorded():
    _, wallet, body = start("card")
    freeze(wallet)
    response = deliver("card", delivery(body["reference"], status="failed"))
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert balance(wallet.account) == D("0.000")
    assert not RejectedCallback.objects.exists()


def test_the_service_raises_a_callback_refusal_that_is_also_account_inactive():
    _, wallet, body = start("card")
    freeze(wallet)
    raw = delivery(body["reference"])
    header = signing.signature_header(raw, SECRETS["card"])
    with pytest.raises(services.CallbackRefused) as refused:
        services.handle_callback(channel="card", body=raw, signature_header=header, remote_addr="10.0.0.9")
    assert isinstance(refused.value, AccountInactive)
    assert (refused.value.code, refused.value.status) == ("account_inactive", 422)
    assert RejectedCallback.objects.get().remote_addr == "10.0.0.9"


def test_the_other_callback_refusals_keep_their_400():
    """The new refusal did not change the old ones (api.md: 400/401 for bad or mismatched callbacks)."""
    _, _wallet, body = start("card")
    response = Client().post("/api/v1/callbacks/card/", b"{}", content_type="application/json")
    assert_problem(response, 401, "invalid_signature")
    assert_problem(deliver("card", delivery(body["reference"], amount="15.001")), 400, "callback_refused")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_deliveries_while_frozen_then_after_unfreezing_credit_once():
    """Real transactions (no test savepoint around them): refusals commit nothing but the record for finance."""
    from tests.parallel import errors_of, in_parallel

    _, wallet, body = start("bank")
    freeze(wallet)
    raw = delivery(body["reference"])
    refused = in_parallel(6, lambda _: deliver("bank", raw))
    assert errors_of(refused) == []
    assert {(o.value.status_code, o.value.json()["code"]) for o in refused} == {(422, "account_inactive")}
    assert RejectedCallback.objects.count() == 6 and not CallbackNonce.objects.exists()
    assert_untouched(body["id"])

    unfreeze(wallet)
    credited = in_parallel(6, lambda _: deliver("bank", raw))
    assert errors_of(credited) == []
    assert {o.value.status_code for o in credited} == {200}
    assert balance(wallet.account) == D("15.000")
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1
    assert verify().ok


# --- starting a top-up ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["frozen", "closed"])
@pytest.mark.parametrize("with_key", [False, True])
def test_starting_a_top_up_into_an_inactive_wallet_is_422_account_inactive(state, with_key, ledger_snapshot):
    owner = make_user(Role.CUSTOMER)
    wallet = open_wallet(user=owner)
    if state == "frozen":
        freeze(wallet)
    else:
        wallets.close_wallet(wallet=wallet, actor=make_user(Role.FINANCE), reason="Left", idempotency_key="c-2")
    before = ledger_snapshot()
    headers = {"HTTP_IDEMPOTENCY_KEY": "start-1"} if with_key else {}
    payload = {"account": wallet.number, "amount": "5.000", "channel": "card"}
    response = client_for(owner).post("/api/v1/topups/online/", payload, format="json", **headers)
    problem = assert_problem(response, 422, "account_inactive")
    assert f"Account {wallet.number} is {state}" in problem["detail"]
    assert not OnlineTopup.objects.exists()
    assert ledger_snapshot() == before


def test_a_service_user_starting_a_top_up_into_a_frozen_wallet_gets_422():
    wallet = open_wallet()
    freeze(wallet)
    response = client_for(make_user(Role.SERVICE)).post(
        "/api/v1/topups/online/", {"account": wallet.number, "amount": "5.000", "channel": "bank"}, format="json"
    )
    assert_problem(response, 422, "account_inactive")
    assert not OnlineTopup.objects.exists()


def test_initiate_refuses_an_inactive_wallet_with_account_inactive():
    wallet = freeze(open_wallet())
    with pytest.raises(AccountInactive, match=f"Account {wallet.number} is frozen"):
        services.initiate(wallet=wallet, amount=D("5.000"), channel="bank", actor=wallet.holder.user or make_user(None))
    assert not OnlineTopup.objects.exists()
