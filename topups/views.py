"""The customer portal's online top-up: choose an amount and a channel, pay at the partner, come back.

These pages live here, not beside the portal's others in ledger, because ledger may not import topups
(design §2); they extend the portal's templates and sit under /portal/topup/. Money moves only when the
partner's signed callback arrives (``services.handle_callback``): the result page just reads the status.

The customer may cancel a top-up not yet paid: on the partner's page (the partner sends the browser to the
``cancel_url`` it was given: api.md's callbacks say only "authorised" or "failed", so a cancel comes back with the
browser, not in a callback), or on the top-up's page here (a POST). Both go through ``services.cancel``.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from erial.errors import DomainError, IdempotencyConflict
from erial.money import format_amount
from ledger.forms import show_refusal
from ledger.models import Posting, Wallet, WalletStatus
from ledger.views import customer_wallet

from . import services
from .forms import CHANNEL_LABELS, TopupForm
from .models import Channel, OnlineTopup, TopupStatus

INACTIVE = gettext_lazy(
    "Your e-Rial account is not active, so it cannot be topped up. Please ask at a municipal office."
)


class _Refused(Exception):
    """A refusal decided here, before any service is called."""


#: What the result page shows for each status.
_OUTCOME = {
    TopupStatus.INITIATED: "waiting",
    TopupStatus.AUTHORISED: "waiting",
    TopupStatus.COMPLETED: "completed",
    TopupStatus.FAILED: "failed",
    TopupStatus.CANCELLED: "cancelled",
    TopupStatus.EXPIRED: "expired",
}


@login_required
@never_cache
def start(request: HttpRequest) -> HttpResponse:
    """The form; a valid submission starts the top-up and sends the browser to the partner's page."""
    wallet = customer_wallet(request.user)
    if wallet is None:
        return render(request, "ledger/portal/no_wallet.html", status=403)
    is_active = wallet.status == WalletStatus.ACTIVE
    form = TopupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if not is_active:  # the service refuses it too; this says why in the customer's words
                raise _Refused(INACTIVE)
            topup = _start_once(request, wallet, form.cleaned_data)
        except _Refused as refused:
            form.add_error(None, str(refused))
        except IdempotencyConflict:
            form.add_error(None, _("This form was already used for a different top-up. Please fill it in again."))
        except DomainError as error:
            show_refusal(form, error)
        else:
            return redirect(_partner_url(request, topup))
    context = {
        "form": form,
        # A fresh key per rendering: a refused attempt started nothing, so the next one may be a new request.
        "topup_key": uuid.uuid4(),
        "is_active": is_active,
        "inactive_text": INACTIVE,
    }
    return render(request, "topups/portal/start.html", context, status=400 if form.errors else 200)


def _start_once(request: HttpRequest, wallet: Wallet, data: dict[str, Any]) -> OnlineTopup:
    """Start the top-up, or find the one this form's key already started (a double submit, a reload): the
    form's hidden key is the service's idempotency key, in this login's own scope."""
    return services.initiate(
        wallet=wallet,
        amount=data["amount"],
        channel=data["channel"],
        actor=request.user,
        idempotency_key=str(data["idempotency_key"]),
        scope=f"portal:{request.user.pk}",
    )


def _partner_url(request: HttpRequest, topup: OnlineTopup) -> str:
    """The partner's payment page, told where to send the customer back when they are done, and where when they
    cancel there (with a token only this site can make: nobody else's link cancels the customer's top-up)."""
    back = request.build_absolute_uri(reverse("topups:portal-result", args=[topup.pk]))
    cancelled = request.build_absolute_uri(reverse("topups:portal-partner-cancelled", args=[topup.pk]))
    cancelled += "?" + urlencode({"token": _cancel_token(topup)})
    query = urlencode({"return_url": back, "cancel_url": cancelled})
    return request.build_absolute_uri(services.redirect_url(topup)) + "&" + query


def _cancel_token(topup: OnlineTopup) -> str:
    return signing.Signer(salt="topups.partner-cancel").signature(str(topup.pk))


def _own_topup(request: HttpRequest, topup_id: uuid.UUID) -> OnlineTopup:
    """The logged-in customer's top-up; anyone else's does not exist (404)."""
    wallet = customer_wallet(request.user)
    topup = OnlineTopup.objects.select_related("wallet").filter(pk=topup_id, wallet=wallet).first() if wallet else None
    if topup is None:
        raise Http404("No such top-up.")
    return topup


@login_required
@never_cache  # the status changes under the customer's eyes
def result(request: HttpRequest, topup_id: uuid.UUID) -> HttpResponse:
    """Where the partner sends the customer back: waiting, completed (with the receipt), failed, cancelled or
    expired. A top-up still waiting for the partner may be cancelled from here.

    Only the wallet's owner sees a top-up; to anyone else it does not exist (404).
    """
    topup = _own_topup(request, topup_id)
    outcome = _OUTCOME.get(TopupStatus(topup.status), "waiting")
    context = {
        "topup": topup,
        "outcome": outcome,
        "amount": format_amount(topup.amount),
        "channel": CHANNEL_LABELS[Channel(topup.channel)],
        "is_bank": topup.channel == Channel.BANK,
        "balance_after": _balance_after(topup) if outcome == "completed" else None,
        "partner_url": _partner_url(request, topup) if topup.status == TopupStatus.INITIATED else None,
        "can_cancel": topup.status == TopupStatus.INITIATED,
    }
    return render(request, "topups/portal/result.html", context)


@login_required
@require_POST
def cancel(request: HttpRequest, topup_id: uuid.UUID) -> HttpResponse:
    """The customer cancels their top-up from its page; back to the page, which says what it now is."""
    topup = _own_topup(request, topup_id)
    with contextlib.suppress(DomainError):  # paid, failed or expired meanwhile: the page shows that instead
        services.cancel(topup=topup, actor=request.user, reason="Cancelled by the customer in the portal.")
    return redirect("topups:portal-result", topup.pk)


@login_required
@never_cache
def partner_cancelled(request: HttpRequest, topup_id: uuid.UUID) -> HttpResponse:
    """Where the partner sends a customer who cancelled on its page (the ``cancel_url`` it was given): the top-up
    is cancelled and the customer sees its page. Without this site's token for the top-up nothing is cancelled."""
    topup = _own_topup(request, topup_id)
    if constant_time_compare(request.GET.get("token", ""), _cancel_token(topup)):
        partner = Channel(topup.channel).label.lower()
        with contextlib.suppress(DomainError):  # paid, failed or expired meanwhile: the page shows that instead
            services.cancel(
                topup=topup, actor=request.user, reason=f"Cancelled by the customer at the {partner}'s page."
            )
    return redirect("topups:portal-result", topup.pk)


def _balance_after(topup: OnlineTopup) -> str:
    """The wallet's balance right after this credit (not today's, which later movements changed)."""
    after = (
        Posting.objects.filter(entry_id=topup.entry_id, account_id=topup.wallet.account_id)
        .values_list("balance_after", flat=True)
        .first()
    )
    return format_amount(after) if after is not None else ""
