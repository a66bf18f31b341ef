"""The service's front page: what e-Rial is, where to go, and whether the books prove themselves."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ledger import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "erial/home.html", {"accounts": selectors.chart_with_balances()})
