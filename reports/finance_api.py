"""Finance reports over the API (finance and admin only): the trial balance and municipal revenue with fee income.

``GET /api/v1/reports/trial-balance/?as_of=YYYY-MM-DD[&detail=accounts][&format=pdf]`` and
``GET /api/v1/reports/revenue/?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=pdf]``. JSON gives amounts as 3-decimal
strings; a refusal is problem+json whichever format was asked for.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from erial.api import HasRole
from erial.errors import InvalidRequest
from erial.money import format_amount
from erial.roles import Role

from .api import PDF, PDFRenderer, RefusalsAsProblems
from .revenue import RevenueReport, revenue_report
from .revenue_pdf import render_revenue
from .statements import parse_day
from .trial_balance import TrialBalance, trial_balance
from .trial_balance_pdf import render_trial_balance

FORMAT = OpenApiParameter("format", str, enum=["json", "pdf"], description="pdf: the printable A4 report")


class FinanceReport(RefusalsAsProblems):
    """Finance and admin only; unknown parameters are refused rather than ignored."""

    permission_classes = [HasRole.of(Role.FINANCE, Role.ADMIN)]
    renderer_classes = [JSONRenderer, PDFRenderer]
    parameters: frozenset[str] = frozenset()

    def check_parameters(self, request: Request) -> None:
        unknown = sorted(set(request.query_params) - self.parameters - {"format"})
        if unknown:
            allowed = ", ".join(sorted(self.parameters | {"format"}))
            raise InvalidRequest(f"Unknown parameter(s) {', '.join(unknown)}: only {allowed}.", field=unknown[0])

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise InvalidRequest("format is json or pdf.", field="format") from None

    def pdf(self, content: bytes, filename: str) -> Response:
        response = Response(content, content_type=PDF)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response


class TrialBalanceReport(FinanceReport):
    parameters = frozenset({"as_of", "detail"})

    @extend_schema(
        summary="The trial balance at the end of a business day (or now), as JSON or PDF",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="Business day (Muscat), up to today; none: now"),
            OpenApiParameter("detail", str, enum=["accounts"], description="accounts: every account on its own line"),
            FORMAT,
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> Response:
        self.check_parameters(request)
        raw = request.query_params.get("as_of")
        as_of = None if raw is None else parse_day(raw, "as_of")
        detail = request.query_params.get("detail")
        if detail not in (None, "accounts"):
            raise InvalidRequest("detail is accounts (every account on its own line), or left out.", field="detail")
        data = trial_balance(as_of, detailed=detail == "accounts")
        if request.accepted_renderer.format == "pdf":
            name = as_of.isoformat() if as_of else data.issued_at.strftime("%Y-%m-%dT%H%M")
            return self.pdf(render_trial_balance(data), f"trial-balance-{name}.pdf")
        return Response(trial_balance_json(data))


class RevenueReportView(FinanceReport):
    parameters = frozenset({"from", "to"})

    @extend_schema(
        summary="Municipal revenue by service and fee income for a period, as JSON or PDF",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (Muscat), included"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, included; not after today"),
            FORMAT,
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> Response:
        self.check_parameters(request)
        start = parse_day(request.query_params.get("from"), "from")
        end = parse_day(request.query_params.get("to"), "to")
        data = revenue_report(start, end)
        if request.accepted_renderer.format == "pdf":
            return self.pdf(render_revenue(data), f"revenue-{start.isoformat()}-{end.isoformat()}.pdf")
        return Response(revenue_json(data))


def trial_balance_json(data: TrialBalance) -> dict[str, Any]:
    return {
        "as_of": data.as_of.isoformat() if data.as_of else None,
        "until": data.until.isoformat(),
        "issued_at": data.issued_at.isoformat(),
        "currency": "OMR",
        "lines": [
            {
                "code": line.code,
                "group": line.group,
                "name_en": line.name_en,
                "name_ar": line.name_ar,
                "kind": line.kind,
                "accounts": line.accounts,
                "postings": line.postings,
                "debit": format_amount(line.debit),
                "credit": format_amount(line.credit),
            }
            for line in data.lines
        ],
        "total_debit": format_amount(data.total_debit),
        "total_credit": format_amount(data.total_credit),
        "balanced": data.balanced,
        "covers_ledger": data.covers_ledger,
        "ledger": {
            "entries": data.ledger.entries,
            "postings": data.ledger.postings,
            "debits": format_amount(data.ledger.debits),
            "credits": format_amount(data.ledger.credits),
        },
    }


def revenue_json(data: RevenueReport) -> dict[str, Any]:
    return {
        "from": data.start.isoformat(),
        "to": data.end.isoformat(),
        "issued_at": data.issued_at.isoformat(),
        "currency": "OMR",
        "services": [
            {
                "service": service.code,
                "name_en": service.name_en,
                "name_ar": service.name_ar,
                "account": service.account_code,
                "payments": service.payments,
                "revenue": format_amount(service.revenue),
                "refunds": format_amount(service.refunds),
                "refund_count": service.refund_count,
                "net": format_amount(service.net),
                "fee_income": format_amount(service.fees),
            }
            for service in data.services
        ],
        "totals": {
            "payments": data.payments,
            "revenue": format_amount(data.revenue),
            "refunds": format_amount(data.refunds),
            "net": format_amount(data.net),
            "fee_income": format_amount(data.service_fees),
        },
        "fee_income": format_amount(data.fee_income),
        "fee_income_unattributed": format_amount(data.fees_unattributed),
    }
