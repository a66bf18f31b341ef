"""Local stand-ins for the partner bank and the card gateway (development and tests only).

They speak the real messages over real HTTP: the customer's browser lands on the simulator's payment
page, the simulator POSTs a signed callback to e-Rial's callback URL, then sends the browser back. No
mock sits inside the code path being tested. Enabled by ``ERIAL_SIMULATORS`` (on with DEBUG).

A customer who cancels on the page is sent to the ``cancel_url`` they came with, with no callback: api.md's
callback says "authorised" or "failed" only, and nothing was paid (without a ``cancel_url``: the ``return_url``).
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from .channels import channel as partner_channel
from .models import Channel
from .signing import signature_header


def send_callback(
    *,
    callback_url: str,
    channel: str,
    reference: str,
    amount: str,
    status: str,
    partner_txn_id: str | None = None,
    nonce: str | None = None,
) -> tuple[int, dict]:
    """POST one signed callback, as the partner would; returns e-Rial's status and answer."""
    body = json.dumps(
        {
            "reference": reference,
            "status": status,
            "amount": amount,
            "currency": "OMR",
            "partner_txn_id": partner_txn_id or f"{channel.upper()}-{secrets.token_hex(5)}",
            "nonce": nonce or secrets.token_hex(12),
        }
    ).encode()
    request = urllib.request.Request(
        callback_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Erial-Signature": signature_header(body, partner_channel(channel).secret),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


@csrf_exempt
def pay_page(request: HttpRequest, channel: str) -> HttpResponse:
    """The partner's payment page: Authorise or Decline, then the signed callback and the return; or Cancel, then
    the return to the cancel URL."""
    if not settings.ERIAL_SIMULATORS or channel not in Channel.values:
        raise Http404("No simulator here.")
    params = request.POST if request.method == "POST" else request.GET
    reference, amount = params.get("reference", ""), params.get("amount", "")
    if request.method == "POST" and params.get("decision") == "cancel":
        return redirect(params.get("cancel_url") or params.get("return_url") or "/")
    if request.method == "POST":
        decision = "authorised" if params.get("decision") == "authorise" else "failed"
        send_callback(
            callback_url=request.build_absolute_uri(reverse("partner-callback", args=[channel])),
            channel=channel,
            reference=reference,
            amount=amount,
            status=decision,
        )
        return redirect(params.get("return_url") or "/")
    return render(
        request,
        "topups/simulator_pay.html",
        {
            "channel": Channel(channel).label,
            "reference": reference,
            "amount": amount,
            "return_url": params.get("return_url", ""),
            "cancel_url": params.get("cancel_url", ""),
        },
    )
