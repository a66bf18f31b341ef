"""Office reports over the API: the day report as a PDF and the office statement as JSON or PDF.

``GET /api/v1/offices/{code}/day-report.pdf?day=YYYY-MM-DD`` (or ``date=``, its alias; today when left out) the PDF;
the summary as JSON stays ``GET /api/v1/offices/{code}/day-report/`` (agents.api), unchanged.
``GET /api/v1/offices/{code}/statement/?from=&to=`` answers JSON; ``&format=pdf`` (or ``Accept:
application/pdf``) the PDF. Finance and admin may read any office; an agent only the office it is a cashier
of; anyone else is refused (403). Refusals are problem+json whatever format was asked for.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from agents.api import DAY_REPORT_PARAMETERS, day_report_day, office_or_404
from agents.models import Cashier, Office
from erial.errors import Forbidden, InvalidRequest
from erial.roles import Role, has_role

from .agent_statement import agent_statement, as_json
from .agent_statement_pdf import render_agent_statement
from .api import PDF, PDFRenderer, RefusalsAsProblems
from .office_day import office_day
from .office_day_pdf import render_office_day
from .statements import parse_day


def office_for(request: Request, code: str) -> Office:
    """The office ``code`` if the caller may read its reports: finance and admin any, a supervisor its own
    (the rule of the JSON day report in agents.api: a cashier does not see the other cashiers' takings)."""
    if not has_role(request.user, Role.AGENT, Role.FINANCE, Role.ADMIN):
        raise Forbidden("Office reports are for finance, admin and the office's own supervisor.")
    # The supervisor's right is checked on the code before the office is looked up: an agent learns nothing
    # of other offices, not even whether a code exists (403 either way).
    if (
        not has_role(request.user, Role.FINANCE, Role.ADMIN)
        and not Cashier.objects.filter(user=request.user, office__code=code, is_supervisor=True).exists()
    ):
        raise Forbidden("Office reports are for the office's own supervisor, finance and admin.")
    return office_or_404(code)


def only(request: Request, allowed: frozenset[str]) -> None:
    """A misspelt parameter (``?dya=``) is refused rather than silently ignored, as everywhere in the API."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InvalidRequest(
            f"Unknown parameter(s) {', '.join(unknown)}: only {', '.join(sorted(allowed))}.", field=unknown[0]
        )


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type=PDF)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"  # amounts and names: never kept by a shared cache
    return response


class OfficeDayPDF(RefusalsAsProblems):
    renderer_classes = [PDFRenderer]

    @extend_schema(
        summary="An office's business day as a PDF: sessions, every top-up and void, totals, the ledger",
        parameters=DAY_REPORT_PARAMETERS,
        responses={(200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, code: str) -> HttpResponse:
        office = office_for(request, code)
        day = day_report_day(request)  # ?day= or its alias ?date=, as the JSON day report
        data = office_day(office, day)
        return pdf_response(render_office_day(data), f"day-report-{office.code}-{day.isoformat()}.pdf")

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """The PDF whatever ``Accept`` says: the JSON summary has its own address."""
        return PDFRenderer(), PDF


class OfficeStatement(RefusalsAsProblems):
    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="An office's statement for a period: drawer or float, commission payable, every movement",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (Muscat), included"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, included; not after today"),
            OpenApiParameter("format", str, enum=["json", "pdf"], description="pdf: the printable statement"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, code: str) -> Response | HttpResponse:
        office = office_for(request, code)
        only(request, frozenset({"from", "to", "format"}))
        start = parse_day(request.query_params.get("from"), "from")
        end = parse_day(request.query_params.get("to"), "to")
        data = agent_statement(office, start, end)
        if request.accepted_renderer.format != "pdf":
            return Response(as_json(data))
        filename = f"office-statement-{office.code}-{start.isoformat()}-{end.isoformat()}.pdf"
        return pdf_response(render_agent_statement(data), filename)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise InvalidRequest("format is json or pdf.", field="format") from None
