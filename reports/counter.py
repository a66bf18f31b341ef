"""Receipt PDFs for the counter: the 80 mm slip and the A4 page a cashier prints for the customer.

This view lives in reports, not next to the counter's other pages in agents, because agents may not import
reports (design §2); the counter links here by URL name. Like the receipts API, it lets any cashier print
any receipt, from any office (a customer may bring a receipt anywhere); to anyone else a receipt does not
exist (404, not 403: numbers are not confirmed to strangers).
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agents.models import Cashier
from erial.errors import InvalidRequest, NotFound

from .receipt_lookup import receipt
from .receipts import SIZES, render_receipt
from .verification import verification_code, verification_path


@require_GET
@never_cache  # personal data, and a receipt voided later must print as voided
def receipt_pdf(request: HttpRequest, receipt_number: str) -> HttpResponse:
    """``?size=thermal`` for the counter's 80 mm printer, ``a4`` (the default) for a full page."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("counter:login"))
    if not Cashier.objects.filter(user=request.user).exists():
        raise Http404("No such receipt")
    size = request.GET.get("size", "a4")
    if size not in SIZES:
        return HttpResponseBadRequest(f"size is {' or '.join(SIZES)}.", content_type="text/plain")
    try:
        data = receipt(receipt_number)
    except (InvalidRequest, NotFound):
        raise Http404("No such receipt") from None
    data.pop("owner_user_id")
    number = data["receipt_number"]
    data["verification_code"] = verification_code(number)
    data["verification_url"] = request.build_absolute_uri(verification_path(number))
    response = HttpResponse(render_receipt(data, size=size), content_type="application/pdf")
    suffix = "" if size == "a4" else f"-{size}"
    response["Content-Disposition"] = f'inline; filename="receipt-{number}{suffix}.pdf"'
    return response
