"""``post()`` behind Django REST framework and nothing else: the ceiling of any fee-payment endpoint in DRF.

Served only by ``bench/http_post_ceiling.py`` (settings ``drf_probe_settings``: the project's settings with
this module as the URL configuration). ``POST /bench/post-only/`` takes the payments endpoint's request as
it is (same token, same role check, same JSON body, same Idempotency-Key header) and does only what the
service-level workers of ``bench/ledger_post.py`` do per post: one ``post()`` shaped like a fee payment
(wallet -(amount + fee), the service's revenue +amount, fee income +fee). It looks nothing up in the
database besides the token (the accounts are read once per process), validates nothing, writes no payment
row. A real payment does all that on top, so it can only be slower than this.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erial.api import HasRole, idempotency_scope
from erial.roles import Role
from erial.urls import urlpatterns as project_urlpatterns
from ledger import services
from ledger.models import Account, Service, Wallet

FEE = Decimal("0.100")


@cache
def accounts() -> tuple[dict[str, Account], dict[str, Account], Account]:
    """Wallet account by wallet number, revenue account by service code, fee income: read once per worker."""
    wallets = {w.number: w.account for w in Wallet.objects.select_related("account")}
    revenue = {s.code: s.revenue_account for s in Service.objects.select_related("revenue_account")}
    return wallets, revenue, Account.objects.get(code="fee_income")


class PostOnly(APIView):
    permission_classes = [HasRole.of(Role.SERVICE, Role.CUSTOMER)]

    def post(self, request: Request) -> Response:
        wallets, revenue, fee_income = accounts()
        body = request.data
        amount = Decimal(body["amount"])
        entry = services.post(
            kind="fee_payment",
            legs=[
                services.Leg(wallets[body["account"]], amount + FEE),
                services.Leg(revenue[body["service"]], -amount),
                services.Leg(fee_income, -FEE),
            ],
            idempotency_key=request.headers["Idempotency-Key"],
            scope=idempotency_scope(request),
        )
        return Response({"entry": str(entry.pk)}, status=201)


urlpatterns = [*project_urlpatterns, path("bench/post-only/", PostOnly.as_view())]
