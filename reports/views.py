"""The public receipt verification page: the target of the QR code printed on every receipt."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import labels
from .verification import public_receipt


@require_GET
@never_cache  # a receipt voided later must not be shown as valid from a cache
def verify_receipt(request: HttpRequest, receipt_number: str, code: str) -> HttpResponse:
    """200 with a masked summary when the receipt is genuine; 404 with a plain "not genuine" page otherwise."""
    summary = public_receipt(receipt_number, code)
    context = {"receipt": summary, "receipt_number": receipt_number[:32], "issuer": labels.issuer(), "labels": labels}
    return render(request, "reports/verify_receipt.html", context, status=200 if summary else 404)
