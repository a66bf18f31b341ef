"""The service's front page: what e-Rial is and where to go; staff also see the chart with balances."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ledger import selectors

from .roles import Role, has_role


def home(request: HttpRequest) -> HttpResponse:
    # Balances are finance's business: anonymous visitors get the landing page only.
    accounts = selectors.chart_with_balances() if request.user.is_staff else None
    # The finance dashboard is linked for the roles that may open it (finance, admin).
    finance = has_role(request.user, Role.FINANCE, Role.ADMIN)
    return render(request, "erial/home.html", {"accounts": accounts, "finance_dashboard": finance})
