"""Online top-ups over HTTP: initiate, read, and the partners' signed callbacks."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erial.api import PROBLEM_JSON, HasRole, idempotency_key, idempotency_scope
from erial.errors import NotFound
from erial.roles import Role
from ledger.api import wallet_for

from . import services
from .models import OnlineTopup
from .serializers import OnlineTopupIn, OnlineTopupOut


class OnlineTopupCreate(APIView):
    permission_classes = [HasRole.of(Role.CUSTOMER, Role.SERVICE)]

    @extend_schema(
        request=OnlineTopupIn,
        responses={201: OnlineTopupOut},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Optional: a retry with the same key and body returns the top-up already started "
                "(the same key with another body: 409 idempotency_conflict).",
            )
        ],
        summary="Start an online top-up",
    )
    def post(self, request: Request) -> Response:
        data = OnlineTopupIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        wallet = wallet_for(request, fields["account"], staff_roles=(Role.SERVICE,))
        # Optional here (starting moves no money), but with a key a retried start returns the same top-up.
        key = idempotency_key(request) if "Idempotency-Key" in request.headers else ""
        topup = services.initiate(
            wallet=wallet,
            amount=fields["amount"],
            channel=fields["channel"],
            actor=request.user,
            idempotency_key=key,
            scope=idempotency_scope(request),
        )
        body = {**OnlineTopupOut(topup).data, "redirect_url": request.build_absolute_uri(services.redirect_url(topup))}
        return Response(body, status=status.HTTP_201_CREATED)


class OnlineTopupDetail(APIView):
    @extend_schema(responses=OnlineTopupOut, summary="An online top-up and its status")
    def get(self, request: Request, topup_id: str) -> Response:
        topup = OnlineTopup.objects.select_related("wallet__holder").filter(pk=topup_id).first()
        if topup is None:
            raise NotFound("No such online top-up.")
        wallet_for(request, topup.wallet.number, staff_roles=(Role.FINANCE,))
        return Response(OnlineTopupOut(topup).data)


@csrf_exempt
@require_POST
def partner_callback(request: HttpRequest, channel: str) -> JsonResponse:
    """``POST /api/v1/callbacks/{channel}/``: no token; the HMAC signature over the raw body is the proof."""
    try:
        topup = services.handle_callback(
            channel=channel,
            body=request.body,
            signature_header=request.headers.get("X-Erial-Signature"),
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
    except services.CallbackRefused as refused:
        return JsonResponse(refused.as_problem(), status=refused.status, content_type=PROBLEM_JSON)
    return JsonResponse({"reference": topup.reference, "status": topup.status})
