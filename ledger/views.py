"""The customer portal: open an account, log in, see the balance and history, pay a bill.

Views are thin: parse a form, call one service, render. A refusal (a domain error) is shown on the form
and, as services guarantee, nothing was written. Money moves only through ``ledger.payments``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from erial.errors import DomainError, InvalidRequest
from erial.money import format_amount
from erial.roles import Role, grant, has_role

from . import payments, portal_access, wallets
from .forms import LOGIN_EXISTS, ActivateForm, PayForm, RegisterForm, localized_name, show_refusal
from .models import EntryKind, OpeningChannel, Payment, Posting, Service, Wallet, WalletStatus

HISTORY_PAGE_SIZE = 10
#: The session key under which a payment just made waits for the page after the redirect (POST/redirect/GET).
LAST_PAYMENT = "portal_last_payment"

_STATUS = {
    WalletStatus.ACTIVE: gettext_lazy("Active"),
    WalletStatus.FROZEN: gettext_lazy("Frozen"),
    WalletStatus.CLOSED: gettext_lazy("Closed"),
}
#: What a movement is called on the customer's statement (the entry kinds a wallet can see).
_KIND = {
    EntryKind.CASH_TOPUP: gettext_lazy("Cash top-up"),
    EntryKind.ONLINE_TOPUP: gettext_lazy("Online top-up"),
    EntryKind.FEE_PAYMENT: gettext_lazy("Bill payment"),
    EntryKind.REFUND: gettext_lazy("Refund"),
    EntryKind.REVERSAL: gettext_lazy("Correction"),
    EntryKind.PAYOUT: gettext_lazy("Balance payout"),
    EntryKind.ADJUSTMENT: gettext_lazy("Adjustment"),
}


def customer_wallet(user: AbstractBaseUser) -> Wallet | None:
    """The logged-in customer's own wallet; None for a login that holds none (staff, a half-made user)."""
    if not has_role(user, Role.CUSTOMER):
        return None
    return (
        Wallet.objects.select_related("holder", "account", "account__cached_balance").filter(holder__user=user).first()
    )


def grouped(number: str) -> str:
    """``"38651665"`` -> ``"3865 1665"``: read aloud and typed at a counter in two groups of four."""
    return f"{number[:4]} {number[4:]}"


# --- registration -------------------------------------------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    """Open an account online: a login (username = civil ID / CR number), a wallet, the customer role."""
    if request.user.is_authenticated and customer_wallet(request.user):
        return redirect("portal:dashboard")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = _open_online_account(form.cleaned_data)
        except DomainError as error:
            show_refusal(form, error)
        except IntegrityError:  # a concurrent registration took the username between the check and here
            form.add_error("national_id", LOGIN_EXISTS)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal:dashboard")
    return render(request, "ledger/portal/register.html", {"form": form})


def _open_online_account(data: dict[str, Any]) -> AbstractBaseUser:
    """The login, the wallet and the role exist together or not at all: a refused wallet leaves no login."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=data["national_id"], password=data["password1"], email=data["email"]
        )
        wallets.open_wallet(
            holder_type=data["holder_type"],
            national_id=data["national_id"],
            phone=data["phone"],
            name_en=data["name_en"],
            name_ar=data["name_ar"],
            email=data["email"],
            channel=OpeningChannel.ONLINE,
            actor=user,
            user=user,
        )
        grant(user, Role.CUSTOMER)
    return user


def activate(request: HttpRequest) -> HttpResponse:
    """Online access for a wallet opened at an office: the code from the office makes the holder's login.

    A wrong code is counted against it by the service (and locks it after a few), so this page needs no
    rate limit of its own.
    """
    if request.user.is_authenticated and customer_wallet(request.user):
        return redirect("portal:dashboard")
    form = ActivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = portal_access.activate(
                wallet_number=data["account"],
                national_id=data["national_id"],
                code=data["code"],
                username=data["national_id"],
                password=data["password1"],
            )
        except DomainError as error:
            form.show_refusal(error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal:dashboard")
    return render(request, "ledger/portal/activate.html", {"form": form})


# --- the account page ---------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Balance, status, number, history and the pay form; right after a payment, what it took."""
    wallet = customer_wallet(request.user)
    if wallet is None:
        return _no_wallet(request)
    just_paid = request.session.pop(LAST_PAYMENT, None)
    payment = (
        Payment.objects.select_related("service").filter(pk=just_paid, wallet=wallet).first() if just_paid else None
    )
    return _render_dashboard(request, wallet, PayForm(fee=_fee_text()), payment=payment)


@login_required
@require_POST
def pay(request: HttpRequest) -> HttpResponse:
    """Pay a bill from the customer's own wallet. The form's key makes a second submission a replay."""
    wallet = customer_wallet(request.user)
    if wallet is None:
        return _no_wallet(request)
    form = PayForm(request.POST, fee=_fee_text())
    if form.is_valid():
        data = form.cleaned_data
        try:
            payment = payments.pay_fee(
                wallet=wallet,
                service=data["service"],
                bill_reference=data["bill_reference"],
                amount=data["amount"],
                actor=request.user,
                idempotency_key=str(data["idempotency_key"]),
                scope=f"portal:{request.user.pk}",
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            request.session[LAST_PAYMENT] = str(payment.pk)
            return redirect("portal:dashboard")
    return _render_dashboard(request, wallet, form, payment=None)


def _fee_text() -> str | None:
    """The fixed fee shown next to the amount, so the total is no surprise; None when none is in force."""
    try:
        return format_amount(payments.fee_in_force())
    except InvalidRequest:
        return None


def _no_wallet(request: HttpRequest) -> HttpResponse:
    return render(request, "ledger/portal/no_wallet.html", status=403)


@dataclass(frozen=True)
class HistoryRow:
    """One movement as the customer sees it: money in is positive, money out negative."""

    created_at: dt.datetime
    description: SafeString
    amount: str
    balance_after: str
    is_credit: bool
    #: The movement's entry: reports' template tag finds the receipt it issued, if any (ledger cannot).
    entry_id: Any = None


def _history(wallet: Wallet, page_number: str | None) -> tuple[Page, list[HistoryRow]]:
    """A page of the wallet's movements, newest first, described in the page's language."""
    postings = (
        Posting.objects.filter(account=wallet.account)
        .select_related("entry", "entry__reverses")
        .order_by("-created_at", "-id")
    )
    page = Paginator(postings, HISTORY_PAGE_SIZE).get_page(page_number)
    services = {service.code: service for service in Service.objects.all()}
    rows = []
    for posting in page.object_list:
        # The wallet is a liability: a credit (negative posting) is money in for the customer.
        amount = -posting.amount.amount
        rows.append(
            HistoryRow(
                created_at=posting.created_at,
                description=_describe(posting, services),
                amount=("+" if amount > 0 else "") + format_amount(amount),
                balance_after=format_amount(posting.balance_after or Decimal("0")),
                is_credit=amount > 0,
                entry_id=posting.entry_id,
            )
        )
    return page, rows


def _describe(posting: Posting, services: dict[str, Service]) -> SafeString:
    entry = posting.entry
    kind = str(_KIND.get(entry.kind, entry.get_kind_display()))
    paid = entry.reverses if entry.kind == EntryKind.REFUND and entry.reverses else entry
    service = services.get(paid.metadata.get("service", ""))
    if service is None:
        return escape(kind)
    # The reference is kept on one line and isolated from the text's direction: it is compared with the paper bill.
    reference = format_html('<bdi class="ref">{}</bdi>', paid.metadata.get("bill_reference", ""))
    template = escape(_("%(kind)s: %(service)s, bill %(reference)s"))
    return mark_safe(
        template % {"kind": escape(kind), "service": escape(localized_name(service)), "reference": reference}
    )


def _render_dashboard(request: HttpRequest, wallet: Wallet, form: PayForm, *, payment: Payment | None) -> HttpResponse:
    page, rows = _history(wallet, request.GET.get("page"))
    context = {
        "wallet": wallet,
        "holder_name": localized_name(wallet.holder),
        "number": grouped(wallet.number),
        "balance": format_amount(wallet.account.cached_balance.balance),
        "status": _STATUS.get(wallet.status, wallet.status),
        "is_active": wallet.status == WalletStatus.ACTIVE,
        "form": form,
        # A fresh key per rendering: a refused attempt wrote nothing, so the next one may be a new request.
        "pay_key": uuid.uuid4(),
        "receipt": _receipt(payment) if payment else None,
        "page": page,
        "rows": rows,
        # The language switch returns here; after a refused POST to pay/, "here" is the account page.
        "language_next": reverse("portal:dashboard"),
    }
    return render(request, "ledger/portal/dashboard.html", context)


def _receipt(payment: Payment) -> dict[str, str]:
    """What the customer is shown right after paying: the bill, and amount + fee = total taken."""
    return {
        "service": localized_name(payment.service),
        "bill_reference": payment.bill_reference,
        "amount": format_amount(payment.amount),
        "fee": format_amount(payment.fee),
        "total": format_amount(payment.total),
    }
