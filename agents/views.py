"""The counter: the web page a cashier works at, mounted at /counter/ (names: ``counter:...``).

Log in, open the session with the opening cash, find the wallet (account number, civil ID / CR or phone),
take the amount, confirm, print the receipt, void a mistake, close the session with the count.

Views are thin: parse a form, call one service from ``agents.services``, render. A refusal (a domain error)
is shown on the form and, as the services guarantee, nothing was written. Only users with a ``Cashier``
record get past ``cashier_required``, and every object they reach is looked up within their own office.
Pages are never cached: they carry names and amounts, on a computer the next cashier uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erial.errors import DomainError, InvalidRequest, NotFound
from erial.money import format_amount
from ledger.businessday import today
from ledger.forms import localized_name
from ledger.models import Service, Wallet, WalletStatus
from ledger.selectors import search_wallets
from ledger.views import grouped
from ledger.wallets import find_wallet

from . import selectors, services
from .forms import (
    AmountForm,
    BillLookupForm,
    CloseSessionForm,
    ConfirmForm,
    OpenSessionForm,
    ReceiptLookupForm,
    SearchForm,
    VoidForm,
    count_differs,
    show_refusal,
)
from .models import Cashier, CashierSession, CashTopup, SessionStatus

CounterView = Callable[..., HttpResponse]


def cashier_required(view: CounterView) -> CounterView:
    """Let through only a logged-in user with a cashier record, and hand the view that record."""

    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("counter:login"))
        cashier = (
            Cashier.objects.select_related("office__cash_account", "office__commission_account", "user")
            .filter(user=request.user)
            .first()
        )
        if cashier is None:
            return render(request, "agents/counter/not_cashier.html", status=403)
        return view(request, cashier, *args, **kwargs)

    return wrapper


def session_required(view: CounterView) -> CounterView:
    """Money is taken only within the cashier's open session: without one, the cashier is sent to open it."""

    @wraps(view)
    def wrapper(request: HttpRequest, cashier: Cashier, *args: Any, **kwargs: Any) -> HttpResponse:
        session = open_session_of(cashier)
        if session is None:
            return redirect("counter:open_session")
        return view(request, cashier, session, *args, **kwargs)

    return wrapper


def open_session_of(cashier: Cashier) -> CashierSession | None:
    return (
        CashierSession.objects.select_related("office__cash_account", "office__commission_account", "cashier")
        .filter(cashier=cashier, status=SessionStatus.OPEN)
        .first()
    )


def _page(
    request: HttpRequest,
    template: str,
    cashier: Cashier,
    *,
    session: CashierSession | None = None,
    **context: Any,
) -> HttpResponse:
    """Render a counter page with what the header shows: office, cashier, session, where we are."""
    context.update(
        cashier=cashier,
        office_name=localized_name(cashier.office),
        session=session,
        stale_session=session is not None and session.business_day != today(),
    )
    context.setdefault("language_next", request.get_full_path() if request.method == "GET" else reverse("counter:home"))
    return render(request, f"agents/counter/{template}", context)


def _wallet_or_404(number: str) -> Wallet:
    try:
        return find_wallet(number)
    except DomainError:
        raise Http404("No such wallet") from None


def _own_topup_or_404(cashier: Cashier, topup_id: uuid.UUID) -> CashTopup:
    """A top-up of the cashier's own office; another office's top-ups do not exist from here."""
    topup = (
        CashTopup.objects.select_related("wallet__holder", "session__cashier", "office")
        .filter(pk=topup_id, office=cashier.office)
        .first()
    )
    if topup is None:
        raise Http404("No such top-up at this office")
    return topup


def _wallet_context(wallet: Wallet) -> dict[str, Any]:
    return {
        "wallet": wallet,
        "holder_name": localized_name(wallet.holder),
        "number": grouped(wallet.number),
        "is_active": wallet.status == WalletStatus.ACTIVE,
    }


# --- the session ------------------------------------------------------------------------------------


@cashier_required
@require_http_methods(["GET", "POST"])
def open_session(request: HttpRequest, cashier: Cashier) -> HttpResponse:
    """Start the shift with the cash counted in the drawer. A second submission finds the session open."""
    if open_session_of(cashier) is not None:
        return redirect("counter:home")
    form = OpenSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.open_session(cashier=cashier, opening_cash=form.cleaned_data["opening_cash"])
        except DomainError as error:
            show_refusal(form, error)
        else:
            return redirect("counter:home")
    return _page(request, "open_session.html", cashier, form=form, nav="session")


@cashier_required
@session_required
@require_GET
def session_page(request: HttpRequest, cashier: Cashier, session: CashierSession) -> HttpResponse:
    """This session's top-ups, the cash expected in the drawer, and the form to count and close."""
    return _session_page(request, cashier, session, CloseSessionForm())


def _session_page(
    request: HttpRequest, cashier: Cashier, session: CashierSession, form: CloseSessionForm
) -> HttpResponse:
    summary = selectors.session_summary(session)
    return _page(
        request,
        "session.html",
        cashier,
        session=session,
        summary=summary,
        form=form,
        nav="session",
        language_next=reverse("counter:session"),
        **_totals(summary),
    )


def _totals(summary: selectors.SessionSummary) -> dict[str, str]:
    return {
        "kept_amount": format_amount(summary.kept_amount),
        "voided_amount": format_amount(summary.voided_amount),
        "expected_cash": format_amount(summary.expected_cash),
    }


@cashier_required
@require_POST
def close_session(request: HttpRequest, cashier: Cashier, session_id: uuid.UUID) -> HttpResponse:
    """Count and close. By the session's id, so a close submitted twice lands on the closed summary."""
    session = CashierSession.objects.select_related("office", "cashier").filter(pk=session_id, cashier=cashier).first()
    if session is None:
        raise Http404("No such session of yours")
    form = CloseSessionForm(request.POST)
    if form.is_valid():
        counted, note = form.cleaned_data["counted_cash"], form.cleaned_data["note"]
        try:
            services.close_session(session=session, counted_cash=counted, actor=request.user, note=note)
        except DomainError as error:
            if isinstance(error, InvalidRequest) and error.extra.get("field") == "note":
                form.add_error("note", count_differs(selectors.session_summary(session).expected_cash, counted))
            else:
                show_refusal(form, error)
        else:
            return redirect("counter:session_closed", session_id=session.pk)
    if session.status != SessionStatus.OPEN:
        return redirect("counter:session_closed", session_id=session.pk)
    return _session_page(request, cashier, session, form)


@cashier_required
@require_GET
def session_closed(request: HttpRequest, cashier: Cashier, session_id: uuid.UUID) -> HttpResponse:
    """The counted session: what came in, what was expected, what was counted, and the difference."""
    session = CashierSession.objects.select_related("office").filter(pk=session_id, cashier=cashier).first()
    if session is None:
        raise Http404("No such session of yours")
    if session.status == SessionStatus.OPEN:
        return redirect("counter:session")
    summary = selectors.session_summary(session)
    return _page(
        request,
        "session_closed.html",
        cashier,
        closed=session,
        summary=summary,
        opening_cash=format_amount(session.opening_cash),
        counted_cash=format_amount(session.counted_cash),
        difference=format_amount(session.difference),
        nav="session",
        **_totals(summary),
    )


# --- finding the wallet and taking the cash -----------------------------------------------------------


@cashier_required
@session_required
@require_GET
def home(request: HttpRequest, cashier: Cashier, session: CashierSession) -> HttpResponse:
    """The counter's start: one search box (account number, civil ID / CR or phone) and the results."""
    form = SearchForm(request.GET if "q" in request.GET else None)
    results: list[dict[str, Any]] | None = None
    if form.is_bound and form.is_valid():
        try:
            results = [_wallet_context(wallet) for wallet in search_wallets(form.cleaned_data["q"])]
        except DomainError as error:
            show_refusal(form, error)
    if results:  # the first result takes the focus: Enter picks it
        form.fields["q"].widget.attrs.pop("autofocus", None)
    return _page(
        request,
        "home.html",
        cashier,
        session=session,
        form=form,
        results=results,
        lookup=ReceiptLookupForm(),
        float_position=selectors.float_position(cashier.office),
        nav="home",
    )


@cashier_required
@session_required
@require_GET
def topup_amount(request: HttpRequest, cashier: Cashier, session: CashierSession, number: str) -> HttpResponse:
    """The wallet picked: who it is, and the cash received."""
    wallet = _wallet_or_404(number)
    return _amount_page(request, cashier, session, wallet, AmountForm())


def _amount_page(
    request: HttpRequest, cashier: Cashier, session: CashierSession, wallet: Wallet, form: AmountForm
) -> HttpResponse:
    return _page(
        request,
        "topup_amount.html",
        cashier,
        session=session,
        form=form,
        nav="home",
        language_next=reverse("counter:topup_amount", kwargs={"number": wallet.number}),
        **_wallet_context(wallet),
    )


@cashier_required
@session_required
@require_http_methods(["GET", "POST"])
def topup_confirm(request: HttpRequest, cashier: Cashier, session: CashierSession, number: str) -> HttpResponse:
    """GET: the confirmation (holder, number, amount) with a fresh idempotency key. POST: the top-up.

    The key is made when the page is rendered, so the same confirmation sent twice (a double click, a
    re-send on a slow line) tops up once and both answers lead to the same receipt. A refusal writes
    nothing and returns to the amount, where the next confirmation gets a new key.
    """
    wallet = _wallet_or_404(number)
    if request.method == "GET":
        form = AmountForm(request.GET)
        if not form.is_valid():
            return _amount_page(request, cashier, session, wallet, form)
        context = _wallet_context(wallet)
        context.update(amount=format_amount(form.cleaned_data["amount"]), key=uuid.uuid4(), nav="home")
        return _page(request, "topup_confirm.html", cashier, session=session, **context)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            topup = services.record_cash_topup(
                session=session,
                wallet=wallet,
                amount=form.cleaned_data["amount"],
                actor=request.user,
                idempotency_key=str(form.cleaned_data["idempotency_key"]),
                scope=f"counter:{request.user.pk}",
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            return redirect("counter:topup", topup_id=topup.pk)
    return _amount_page(request, cashier, session, wallet, form)


@cashier_required
@require_GET
def topup_detail(request: HttpRequest, cashier: Cashier, topup_id: uuid.UUID) -> HttpResponse:
    """A top-up of this office: its receipt number and PDFs, and the void form while it may be voided."""
    topup = _own_topup_or_404(cashier, topup_id)
    return _topup_page(request, cashier, topup, VoidForm())


def _topup_page(request: HttpRequest, cashier: Cashier, topup: CashTopup, form: VoidForm) -> HttpResponse:
    session = open_session_of(cashier)
    voidable = not topup.is_voided and session is not None and topup.session_id == session.pk
    return _page(
        request,
        "topup_done.html",
        cashier,
        session=session,
        topup=topup,
        amount=format_amount(topup.amount),
        voidable=voidable,
        form=form,
        void_key=uuid.uuid4(),
        nav="home",
        language_next=reverse("counter:topup", kwargs={"topup_id": topup.pk}),
        **_wallet_context(topup.wallet),
    )


@cashier_required
@require_POST
def void_topup(request: HttpRequest, cashier: Cashier, topup_id: uuid.UUID) -> HttpResponse:
    """Take back a top-up: same cashier, same open session, while the wallet still holds the money."""
    topup = _own_topup_or_404(cashier, topup_id)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            services.void_cash_topup(
                topup=topup,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                idempotency_key=str(form.cleaned_data["idempotency_key"]),
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            return redirect("counter:topup", topup_id=topup.pk)
    return _topup_page(request, cashier, topup, form)


# --- receipts -----------------------------------------------------------------------------------------


@cashier_required
@require_GET
def receipt_lookup(request: HttpRequest, cashier: Cashier) -> HttpResponse:
    """Any receipt, from any office (a top-up, a payment or a refund): a customer may bring one anywhere. A
    payer without the receipt number finds their payment by the bill they paid, its service and
    the amount paid (``?bill=&service=&amount=``)."""
    services_offered = [(s.code, localized_name(s)) for s in Service.objects.order_by("code")]
    bill_form = BillLookupForm(request.GET if "bill" in request.GET else None, services=services_offered)
    bills: list[dict[str, Any]] | None = None
    if bill_form.is_bound and bill_form.is_valid():
        bills = [
            {**found, "service_name": _in_page_language(found, "service")}
            for found in selectors.payments_of_bill(
                bill_form.cleaned_data["bill"], bill_form.cleaned_data["service"], bill_form.cleaned_data["amount"]
            )
        ]
    form = ReceiptLookupForm(request.GET if "number" in request.GET else None)
    receipt: dict[str, Any] | None = None
    if form.is_bound and form.is_valid():
        try:
            receipt = _find_receipt(form.cleaned_data["number"])
        except InvalidRequest:
            form.add_error("number", _("This is not a receipt number, or it is mistyped: R and 11 digits."))
        except NotFound:
            form.add_error("number", _("No receipt has this number."))
    if receipt is not None:
        localised = ("holder", "office", "service", "channel")
        names = {f"{name}_name": _in_page_language(receipt, name) for name in localised}
        receipt = {**receipt, **names, "account_grouped": grouped(receipt["account"])}
    return _page(
        request,
        "receipt.html",
        cashier,
        session=open_session_of(cashier),
        form=form,
        receipt=receipt,
        bill_form=bill_form,
        bills=bills,
        nav="receipts",
    )


def _find_receipt(number: str) -> dict[str, Any]:
    """The receipt of any kind. agents knows its own and the ledger's; the online top-ups' live in topups, a
    sibling it may not import, so the finder that knows every kind is named in settings (ERIAL_RECEIPT_LOOKUP,
    reports.receipt_lookup.receipt by default)."""
    return import_string(settings.ERIAL_RECEIPT_LOOKUP)(number)


def _in_page_language(data: dict[str, Any], name: str) -> str:
    """``data["<name>_ar"]`` on an Arabic page (when there is one), else ``data["<name>_en"]``."""
    english, arabic = data.get(f"{name}_en", ""), data.get(f"{name}_ar", "")
    if (get_language() or "").startswith("ar") and arabic:
        return arabic
    return english or arabic
