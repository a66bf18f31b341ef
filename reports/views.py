"""Public pages of reports (receipt and statement verification: no login, anyone holding the paper may check
it) and the customer portal's statement download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from erial.errors import InvalidRequest, NotFound
from ledger.views import customer_wallet

from . import labels
from .receipt_lookup import receipt
from .receipts import SIZES, render_receipt
from .statement_verification import public_statement
from .statements import MAX_PERIOD_DAYS, Statement, parse_day, render_statement, statement_data
from .verification import public_receipt, verification_code, verification_path


@require_GET
@never_cache  # a receipt voided later must not be shown as valid from a cache
def verify_receipt(request: HttpRequest, receipt_number: str, code: str) -> HttpResponse:
    """200 with a masked summary when the receipt is genuine; 404 with a plain "not genuine" page otherwise."""
    summary = public_receipt(receipt_number, code)
    context = {"receipt": summary, "receipt_number": receipt_number[:32], "issuer": labels.issuer(), "labels": labels}
    return render(request, "reports/verify_receipt.html", context, status=200 if summary else 404)


@require_GET
@never_cache
def verify_statement(request: HttpRequest, account: str, start: str, end: str, code: str) -> HttpResponse:
    """200 with a masked summary when the statement is genuine; 404 with a plain "not genuine" page otherwise."""
    summary = public_statement(account, start, end, code)
    context = {"statement": summary, "issuer": labels.issuer(), "labels": labels}
    return render(request, "reports/verify_statement.html", context, status=200 if summary else 404)


#: What the portal tells a customer whose period is refused, by the refusal's reason.
_REFUSALS = {
    "date_missing": _("Give both dates of the period."),
    "date_invalid": _("Enter the dates as year-month-day, for example 2025-03-01."),
    "period_reversed": _("The period ends before it starts."),
    "period_in_future": _("The period cannot end after today."),
    "period_too_long": _("A statement covers at most %(days)s days: ask for several."),
}


@login_required
@require_GET
@never_cache  # personal data
def portal_statement(request: HttpRequest) -> HttpResponse:
    """The customer's own statement for ``?from=YYYY-MM-DD&to=YYYY-MM-DD``, downloaded as a PDF.

    A refused period comes back as the form with the reason in the page's language (400), and no PDF.
    """
    wallet = customer_wallet(request.user)
    if wallet is None:
        return render(request, "ledger/portal/no_wallet.html", status=403)
    if "from" not in request.GET and "to" not in request.GET:  # the address typed by hand: just the form
        return render(request, "reports/portal_statement.html")
    raw_from, raw_to = request.GET.get("from", ""), request.GET.get("to", "")
    try:
        data = statement_data(wallet, parse_day(raw_from, "from"), parse_day(raw_to, "to"))
    except InvalidRequest as error:
        reason = error.extra.get("reason", "")
        message = str(_REFUSALS[reason]) % {"days": MAX_PERIOD_DAYS} if reason in _REFUSALS else error.detail
        context = {"statement_from": raw_from[:10], "statement_to": raw_to[:10], "statement_error": message}
        return render(request, "reports/portal_statement.html", context, status=400)
    return statement_response(data, request, disposition="attachment")


def statement_response(data: Statement, request: HttpRequest, *, disposition: str) -> HttpResponse:
    """The PDF with a file name that says whose and which period; never kept by a shared cache."""
    pdf = render_statement(data, site_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"statement-{data.number}-{data.start.isoformat()}-{data.end.isoformat()}.pdf"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
@never_cache  # personal data, and a cash top-up voided later must print as voided
def portal_receipt_pdf(request: HttpRequest, receipt_number: str) -> HttpResponse:
    """The customer's own receipt (payment, refund, cash or online top-up) as a PDF: ``?size=a4|thermal``.

    Someone else's receipt, or one never issued, does not exist (404: numbers are not confirmed to
    strangers); a mistyped number or an unknown size is a 400 page saying so.
    """
    wallet = customer_wallet(request.user)
    if wallet is None:
        raise Http404("No such receipt")
    size = request.GET.get("size", "a4")
    if size not in SIZES:
        return _receipt_refused(request, _("The paper size is A4 or thermal (80 mm)."))
    try:
        data = receipt(receipt_number)
    except InvalidRequest:
        return _receipt_refused(request, _("This is not a receipt number: check it, R and 11 digits."))
    except NotFound:
        raise Http404("No such receipt") from None
    if data.pop("owner_user_id") != request.user.pk:
        raise Http404("No such receipt")
    number = data["receipt_number"]
    data["verification_code"] = verification_code(number)
    data["verification_url"] = request.build_absolute_uri(verification_path(number))
    response = HttpResponse(render_receipt(data, size=size), content_type="application/pdf")
    suffix = "" if size == "a4" else f"-{size}"
    response["Content-Disposition"] = f'attachment; filename="receipt-{number}{suffix}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _receipt_refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "reports/portal_receipt_refused.html", {"message": message}, status=400)
