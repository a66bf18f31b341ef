"""Receipts over the API: the JSON any office or the owner reads, and the same receipt as a PDF to print.

``GET /api/v1/receipts/{number}/`` answers JSON; ``?format=pdf`` (or ``Accept: application/pdf``) the PDF,
A4 unless ``&size=thermal``. Refusals stay problem+json whichever format was asked for.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import selectors
from erial.errors import InvalidRequest, NotFound
from erial.roles import Role, has_role

from .receipts import SIZES, render_receipt
from .verification import verification_code, verification_path

PDF = "application/pdf"


class PDFRenderer(BaseRenderer):
    """Lets ``?format=pdf`` through DRF's content negotiation; the view hands it a finished PDF."""

    media_type = PDF
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data


class ReceiptDetail(APIView):
    """Any office (agents), finance and admin find any receipt: a customer may bring it anywhere. The owner
    sees their own; to anyone else a receipt does not exist (404, not 403: numbers are not confirmed).
    """

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(
        summary="A receipt (top-up, payment or refund) by its number, as JSON or PDF",
        parameters=[
            OpenApiParameter("format", str, enum=["json", "pdf"], description="pdf: the printable receipt"),
            OpenApiParameter("size", str, enum=list(SIZES), description="PDF paper: a4 (default) or 80 mm thermal"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, PDF): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, receipt_number: str) -> Response:
        data = selectors.receipt(receipt_number)
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

    def handle_exception(self, exc: Exception) -> Response:
        """A refusal is problem+json even when a PDF was asked for: the client gets a reason, not a broken file."""
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
