"""``GET /api/v1/reports/reconciliation/?day=YYYY-MM-DD&source=bank|gateway[&format=pdf]``: finance only.

JSON by default (amounts as strings with 3 decimals), the bilingual A4 PDF with ``format=pdf``. Refusals are
problem+json whichever was asked for: an unknown source or parameter, a malformed or future day (400), a
role other than finance (403).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from erial.api import HasRole
from erial.errors import InvalidRequest
from erial.roles import Role
from settlements.models import Source

from .api import PDF, PDFRenderer, RefusalsAsProblems
from .reconciliation_pdf import pdf_response
from .reconciliation_report import parse_source, reconciliation_report
from .statements import parse_day


class ReconciliationReportView(RefusalsAsProblems):
    permission_classes = [HasRole.of(Role.FINANCE)]
    renderer_classes = [JSONRenderer, PDFRenderer]
    #: A misspelt parameter (``?sorce=``) is refused rather than silently ignored, as everywhere in the API.
    parameters = frozenset({"day", "source", "format"})

    @extend_schema(
        summary="The reconciliation report of a business day and source, as JSON or PDF",
        parameters=[
            OpenApiParameter("day", OpenApiTypes.DATE, required=True, description="Business day (Muscat), not future"),
            OpenApiParameter("source", str, required=True, enum=list(Source.values)),
            OpenApiParameter("format", str, enum=["json", "pdf"], description="pdf: the printable report"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        unknown = sorted(set(request.query_params) - self.parameters)
        if unknown:
            raise InvalidRequest(f"Unknown parameter(s) {', '.join(unknown)}: only day, source and format.")
        day = parse_day(request.query_params.get("day"), "day")
        source = parse_source(request.query_params.get("source"))
        report = reconciliation_report(day=day, source=source)
        if request.accepted_renderer.format == "pdf":
            return pdf_response(report)
        response = Response(report.as_json())
        response["Cache-Control"] = "private, no-store"
        return response

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise InvalidRequest("format is json or pdf.") from None
