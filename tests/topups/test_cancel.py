"""An online top-up the customer cancels: at the partner's page (the simulator sends the browser to the cancel URL
it was given; api.md's callbacks carry no "cancelled") or on the top-up's page in the portal. A cancelled top-up
credits nothing, and a partner's callback for it afterwards is refused and recorded for finance.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from erial.errors import Forbidden, InvalidTransition
from erial.roles import Role
from ledger.models import Entry, EntryKind
from ledger.selectors import balance
from ledger.verification import verify
from tests.api.conftest import make_user
from tests.factories import D
from tests.parallel import in_parallel
from tests.topups.test_online_topups import callback
from tests.web.conftest import make_customer
from tests.web.test_portal_topup import started, text_of
from topups import services
from topups.models import OnlineTopup, RejectedCallback, TopupStatus

pytestmark = pytest.mark.django_db


def reread(topup: OnlineTopup) -> OnlineTopup:
    return OnlineTopup.objects.get(pk=topup.pk)  # the status is a protected FSM field: read it afresh


def initiated(customer, amount: str = "25.000", channel: str = "card") -> OnlineTopup:
    return services.initiate(wallet=customer.wallet, amount=D(amount), channel=channel, actor=customer.user)


def cancel_url_of(partner: str) -> str:
    """The cancel URL the portal gave the partner along with the customer."""
    return parse_qs(urlsplit(partner).query)["cancel_url"][0]


def state(topup: OnlineTopup) -> tuple:
    row = reread(topup)
    return row.status, row.failure_reason, row.updated_at, row.history.count()


# --- the service ------------------------------------------------------------------------------------


def test_the_holder_cancels_an_initiated_top_up_and_nothing_is_credited():
    customer = make_customer("5.000")
    topup = initiated(customer)
    cancelled = services.cancel(topup=topup, actor=customer.user, reason="Changed my mind")
    assert cancelled.status == TopupStatus.CANCELLED and cancelled.failure_reason == "Changed my mind"
    assert reread(topup).status == TopupStatus.CANCELLED
    assert reread(topup).history.latest().status == TopupStatus.CANCELLED  # the audit history keeps it
    assert balance(customer.wallet.account) == D("5.000")
    assert not Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).exists()

    before = state(topup)
    services.cancel(topup=topup, actor=customer.user, reason="Clicked twice")  # again: nothing changes
    assert state(topup) == before


def test_only_the_holder_cancels_and_a_refusal_writes_nothing():
    customer = make_customer()
    topup = initiated(customer)
    before = state(topup)
    for someone_else in (make_customer().user, make_user(Role.FINANCE), make_user(Role.SERVICE)):
        with pytest.raises(Forbidden):
            services.cancel(topup=topup, actor=someone_else, reason="x")
    assert state(topup) == before


@pytest.mark.parametrize("outcome", ["completed", "failed", "expired"])
def test_a_top_up_no_longer_initiated_is_not_cancelled(outcome):
    customer = make_customer()
    topup = initiated(customer)
    if outcome == "expired":
        services.expire_stale(now=timezone.now() + dt.timedelta(days=1))
    else:
        status = "authorised" if outcome == "completed" else "failed"
        assert callback("card", reference=topup.reference, amount="25.000", status=status).status_code == 200
    before = state(topup)
    with pytest.raises(InvalidTransition, match=f"is {outcome}: it can no longer be cancelled"):
        services.cancel(topup=topup, actor=customer.user, reason="x")
    assert state(topup) == before


@pytest.mark.parametrize("channel", ["card", "bank"])
def test_a_later_authorisation_of_a_cancelled_top_up_credits_it_once(channel):
    """The partner's signed word that the money moved outweighs the browser's cancel: credited, as if expired."""
    customer = make_customer("1.000")
    topup = initiated(customer, "7.000", channel)
    services.cancel(topup=topup, actor=customer.user, reason="Changed my mind")

    response = callback(channel, reference=topup.reference, amount="7.000", partner_txn_id="PTX-LATE")
    assert response.status_code == 200 and response.json()["status"] == "completed"
    again = callback(channel, reference=topup.reference, amount="7.000", partner_txn_id="PTX-LATE")
    assert again.status_code == 200  # the partner's retry: answered again, credited once
    topup = reread(topup)
    assert topup.status == TopupStatus.COMPLETED and topup.partner_txn_id == "PTX-LATE" and topup.receipt_number
    assert balance(customer.wallet.account) == D("8.000")
    assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP).count() == 1
    assert not RejectedCallback.objects.exists()
    assert verify().ok


def test_a_failure_reported_after_the_cancel_is_refused_as_for_an_expired_top_up():
    customer = make_customer()
    cancelled, expired = initiated(customer), initiated(customer)
    services.cancel(topup=cancelled, actor=customer.user, reason="x")
    OnlineTopup.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    services.expire_stale()
    for topup in (cancelled, expired):
        assert callback("card", reference=topup.reference, status="failed").status_code == 400
    assert reread(cancelled).status == TopupStatus.CANCELLED and reread(expired).status == TopupStatus.EXPIRED


# --- the portal: cancelling from the top-up's page --------------------------------------------------


def test_the_customer_cancels_from_the_top_ups_page(client):
    customer = make_customer("5.000")
    topup, _ = started(client, customer)
    page = f"/portal/topup/{topup.pk}/"
    waiting = client.get(page)
    assert f'action="{page}cancel/"' in waiting.content.decode()
    assert "Cancel only if you have not paid" in text_of(waiting)

    response = client.post(f"{page}cancel/")
    assert response.status_code == 302 and response["Location"] == page
    assert reread(topup).status == TopupStatus.CANCELLED
    assert reread(topup).failure_reason == "Cancelled by the customer in the portal."

    shown = client.get(page)
    text = text_of(shown)
    assert 'data-outcome="cancelled"' in shown.content.decode()
    assert "Top-up cancelled" in text and "Nothing was added" in text
    assert "Cancel this top-up" not in text and "Go back to the payment page" not in text
    assert 'action="/portal/topup/"' in shown.content.decode()  # start again
    assert balance(customer.wallet.account) == D("5.000")

    arabic = text_of(client.get(page, HTTP_ACCEPT_LANGUAGE="ar"))
    assert "أُلغيت عملية الشحن" in arabic


def test_a_paid_top_up_offers_no_cancel_and_a_late_cancel_changes_nothing(client):
    customer = make_customer()
    topup, _ = started(client, customer)
    callback("card", reference=topup.reference, amount="25.000")
    page = f"/portal/topup/{topup.pk}/"
    assert "Cancel this top-up" not in text_of(client.get(page))
    response = client.post(f"{page}cancel/")  # a page left open before the payment was confirmed
    assert response.status_code == 302 and response["Location"] == page
    assert reread(topup).status == TopupStatus.COMPLETED
    assert "Top-up done" in text_of(client.get(page))
    assert balance(customer.wallet.account) == D("25.000")


def test_cancelling_is_a_post_by_the_owner(client):
    customer = make_customer()
    topup, partner = started(client, customer)
    page = f"/portal/topup/{topup.pk}/"
    assert client.get(f"{page}cancel/").status_code == 405

    cancel_url = urlsplit(cancel_url_of(partner))
    stranger = Client()
    stranger.force_login(make_customer().user)
    assert stranger.post(f"{page}cancel/").status_code == 404
    assert stranger.get(f"{cancel_url.path}?{cancel_url.query}").status_code == 404
    anonymous = Client().post(f"{page}cancel/")
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(customer.user)
    assert checked.post(f"{page}cancel/").status_code == 403  # a forged form from elsewhere
    assert reread(topup).status == TopupStatus.INITIATED


# --- the partner's page: cancelling there brings the customer back ----------------------------------


@pytest.mark.parametrize("channel", ["card", "bank"])
def test_cancelling_at_the_partner_returns_to_the_portal_with_the_top_up_cancelled(client, channel):
    customer = make_customer("2.000")
    topup, partner = started(client, customer, channel=channel)
    query = parse_qs(urlsplit(partner).query)
    cancel_url = query["cancel_url"][0]
    assert urlsplit(cancel_url).path == f"/portal/topup/{topup.pk}/cancelled/"

    # The partner's page carries the cancel URL and offers Cancel beside Authorise and Decline.
    pay_page = client.get(partner).content.decode()
    assert 'value="cancel"' in pay_page
    assert re.search(r'name="cancel_url" value="([^"]+)"', pay_page)[1].replace("&amp;", "&") == cancel_url

    form = {
        "reference": topup.reference,
        "amount": "25.000",
        "return_url": query["return_url"][0],
        "cancel_url": cancel_url,
        "decision": "cancel",
    }
    at_partner = client.post(urlsplit(partner).path, form)
    assert at_partner.status_code == 302 and at_partner["Location"] == cancel_url  # no callback: just the browser
    back = client.get(cancel_url)
    assert back.status_code == 302 and back["Location"] == f"/portal/topup/{topup.pk}/"
    topup = reread(topup)
    assert topup.status == TopupStatus.CANCELLED
    assert "at the" in topup.failure_reason and "page" in topup.failure_reason
    assert "Top-up cancelled" in text_of(client.get(back["Location"]))
    assert balance(customer.wallet.account) == D("2.000")
    assert not RejectedCallback.objects.exists()


def test_the_cancel_return_needs_this_sites_token(client):
    customer = make_customer()
    topup, partner = started(client, customer)
    cancel_url = urlsplit(cancel_url_of(partner))
    other, other_partner = started(client, customer)
    other_token = parse_qs(urlsplit(cancel_url_of(other_partner)).query)["token"][0]
    for query in ("", "token=forged", f"token={other_token}"):
        response = client.get(f"{cancel_url.path}?{query}")
        assert response.status_code == 302 and response["Location"] == cancel_url.path.replace("cancelled/", "")
    assert reread(topup).status == TopupStatus.INITIATED
    assert client.get(f"{cancel_url.path}?{cancel_url.query}").status_code == 302
    assert reread(topup).status == TopupStatus.CANCELLED
    assert reread(other).status == TopupStatus.INITIATED


def test_a_simulator_without_a_cancel_url_returns_to_the_return_url(client):
    customer = make_customer()
    topup, _ = started(client, customer)
    response = client.post(
        "/simulators/card/pay/",
        {"reference": topup.reference, "amount": "25.000", "return_url": "/portal/", "decision": "cancel"},
    )
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert reread(topup).status == TopupStatus.INITIATED  # the partner's word alone cancels nothing


# --- a cancel and the partner's authorisation at the same moment --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_an_authorisation_ends_one_way_or_the_other():
    """The cancel locks the top-up as the callback does, so they happen one after the other: either the credit
    comes first (and the cancel is refused) or the cancel does (and the authorisation then credits it anyway);
    either way the money the partner took is credited exactly once."""
    for _ in range(3):
        customer = make_customer()
        topup = initiated(customer, "4.000")

        def work(i: int, topup=topup, customer=customer):
            if i == 0:
                return services.cancel(topup=topup, actor=customer.user, reason="race").status
            return callback(
                "card", reference=topup.reference, amount="4.000", partner_txn_id=f"PTX-{topup.reference}"
            ).status_code

        cancel, authorise = in_parallel(2, work)
        topup = reread(topup)
        assert authorise.value == 200 and topup.status == TopupStatus.COMPLETED
        assert cancel.value == TopupStatus.CANCELLED or isinstance(cancel.error, InvalidTransition)
        assert balance(customer.wallet.account) == D("4.000")
        assert Entry.objects.filter(kind=EntryKind.ONLINE_TOPUP, reference=topup.reference).count() == 1
    assert verify().ok
