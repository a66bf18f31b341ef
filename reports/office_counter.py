"""Today's day report of the cashier's own office, downloaded from the counter (``counter-day-report-pdf``).

It lives in reports for the reason the counter's receipt PDFs do (see reports/counter.py): agents may not
import reports. The counter's login is a browser session, not an API token, hence a page view beside the API's.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agents.models import Cashier
from ledger.businessday import today

from .office_api import pdf_response
from .office_day import office_day
from .office_day_pdf import render_office_day


@require_GET
@never_cache
def day_report_pdf(request: HttpRequest) -> HttpResponse:
    """Today's report of the office the logged-in supervisor works at; other logins are refused (403)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("counter:login"))
    cashier = Cashier.objects.select_related("office__cash_account", "office__commission_account").filter(
        user=request.user
    )
    cashier = cashier.first()
    if cashier is None:
        return render(request, "agents/counter/not_cashier.html", status=403)
    if not cashier.is_supervisor:  # as the API's day reports: a cashier does not see the others' takings
        return HttpResponse("The day report is for the office's supervisor.", status=403, content_type="text/plain")
    day = today()
    data = office_day(cashier.office, day)
    return pdf_response(render_office_day(data), f"day-report-{cashier.office.code}-{day.isoformat()}.pdf")
