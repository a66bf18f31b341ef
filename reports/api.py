"""Receipts and statements over the API, as PDFs to print (receipts also as JSON).

``GET /api/v1/receipts/{number}/`` answers JSON; ``?format=pdf`` (or ``Accept: application/pdf``) the PDF,
A4 unless ``&size=thermal``. ``GET /api/v1/accounts/{number}/statement/?from=&to=`` answers the statement's
PDF. Refusals stay problem+json whichever format was asked for.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erial.errors import InvalidRequest, NotFound
from erial.roles import Role, has_role
from ledger.api import wallet_for

from .receipt_lookup import receipt
from .receipts import SIZES, render_receipt
from .statements import parse_day, statement_data
from .verification import verification_code, verification_path
from .views import statement_response

PDF = "application/pdf"


class PDFRenderer(BaseRenderer):
    """Lets ``?format=pdf`` through DRF's content negotiation; the view hands it a finished PDF."""

    media_type = PDF
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data


class RefusalsAsProblems(APIView):
    """For views that answer PDFs: a refusal is problem+json even when a PDF was asked for, so the client gets
    a reason, not a broken file."""

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class ReceiptDetail(RefusalsAsProblems):
    """Any office (agents), finance and admin find any receipt: a customer may bring it anywhere. The owner
    sees their own; to anyone else a receipt does not exist (404, not 403: numbers are not confirmed).
    """

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="A receipt (cash or online top-up, payment or refund) by its number, as JSON or PDF",
        parameters=[
            OpenApiParameter("format", str, enum=["json", "pdf"], description="pdf: the printable receipt"),
            OpenApiParameter("size", str, enum=list(SIZES), description="PDF paper: a4 (default) or 80 mm thermal"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, receipt_number: str) -> Response:
        data = receipt(receipt_number)
        owner = data.pop("owner_user_id")
        if not (has_role(request.user, Role.AGENT, Role.FINANCE, Role.ADMIN) or owner == request.user.pk):
            raise NotFound(f"No receipt {receipt_number}.")
        number = data["receipt_number"]
        data["verification_code"] = verification_code(number)
        data["verification_url"] = request.build_absolute_uri(verification_path(number))
        if request.accepted_renderer.format != "pdf":
            return Response(data)
        size = request.query_params.get("size", "a4")
        if size not in SIZES:
            raise InvalidRequest(f"size is {' or '.join(SIZES)}.")
        response = Response(render_receipt(data, size=size), content_type=PDF)
        suffix = "" if size == "a4" else f"-{size}"
        response["Content-Disposition"] = f'inline; filename="receipt-{number}{suffix}.pdf"'
        response["Cache-Control"] = "private, no-store"  # personal data: never kept by a shared cache
        return response

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise InvalidRequest("format is json or pdf.") from None


class AccountStatement(RefusalsAsProblems):
    """The owner, finance and admin download a wallet's statement; another customer is told the account does
    not exist (404), other roles are refused (403).
    """

    renderer_classes = [PDFRenderer]
    #: A misspelt parameter (``?form=``) is refused rather than silently ignored, as everywhere in the API.
    parameters = frozenset({"from", "to"})

    @extend_schema(
        summary="A customer statement for a period, as PDF",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day (Muscat), included"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, included; not after today"),
        ],
        responses={(200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, number: str) -> HttpResponse:
        wallet = wallet_for(request, number, staff_roles=(Role.FINANCE,))
        unknown = sorted(set(request.query_params) - self.parameters)
        if unknown:
            raise InvalidRequest(f"Unknown parameter(s) {', '.join(unknown)}: only from and to.", field=unknown[0])
        start = parse_day(request.query_params.get("from"), "from")
        end = parse_day(request.query_params.get("to"), "to")
        return statement_response(statement_data(wallet, start, end), request, disposition="inline")

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        """The PDF whatever ``Accept`` says: a statement exists in no other form (refusals are still JSON)."""
        return PDFRenderer(), PDF
