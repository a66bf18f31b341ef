"""The ledger's HTTP endpoints: accounts (wallets), their transactions, services, payments, refunds.

Views parse, authorise and call one service; the services own every rule. Contract: ../shared/api.md.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erial.api import HasRole, idempotency_key, idempotency_scope
from erial.errors import AlreadyExists, Forbidden, InvalidRequest, NotFound
from erial.roles import Role, has_role

from . import payments, portal_access, wallets
from .models import OpeningChannel, Payment, Posting, Service, Wallet
from .serializers import (
    AccountOpenedOut,
    AccountOut,
    OpenAccountIn,
    PaymentIn,
    PaymentOut,
    PortalActivationOut,
    RefundIn,
    RefundOut,
    ReissuedActivationOut,
    ServiceOut,
    TransactionOut,
    WalletStatusIn,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="1-255 printable characters. The same key and body replays the first answer; another body: 409.",
)


def wallet_for(request: Request, number: str, *, staff_roles: tuple[Role, ...]) -> Wallet:
    """The wallet if the caller may see it: its owner, or one of ``staff_roles``.

    A customer asking for someone else's wallet is told it is not found: numbers are not to be probed.
    """
    wallet = wallets.find_wallet(number)
    if has_role(request.user, *staff_roles, Role.ADMIN):
        return wallet
    if has_role(request.user, Role.CUSTOMER) and wallet.holder.user_id == request.user.pk:
        return wallet
    if has_role(request.user, Role.CUSTOMER):
        raise NotFound(f"No e-Rial account {wallet.number}.")
    raise Forbidden("Your role may not see this account.")


class AccountListCreate(APIView):
    permission_classes = [HasRole.of(Role.AGENT, Role.ADMIN, Role.CUSTOMER)]

    @extend_schema(
        request=OpenAccountIn,
        responses={201: AccountOpenedOut},
        summary="Open an e-Rial account",
        description="Opened by an agent or admin (at an office), the answer also carries `activation_code`: shown "
        "this once, the holder makes their portal login with it at /portal/activate/. A customer's "
        "self-registration already has a login and gets none.",
    )
    def post(self, request: Request) -> Response:
        data = OpenAccountIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        self_registration = not has_role(request.user, Role.AGENT, Role.ADMIN)
        if self_registration and hasattr(request.user, "holder"):
            raise AlreadyExists("You already hold an e-Rial account: one holder may have one wallet.")
        # The wallet and its activation code exist together: an office never hands out a wallet without one.
        with transaction.atomic():
            wallet = wallets.open_wallet(
                holder_type=fields["holder_type"],
                national_id=fields["national_id"],
                phone=fields["phone"],
                name_en=fields["name"],
                name_ar=fields["name_ar"],
                email=fields["email"],
                channel=OpeningChannel.ONLINE if self_registration else OpeningChannel.OFFICE,
                actor=request.user,
                user=request.user if self_registration else None,
            )
            issued = None
            if not self_registration:
                issued = portal_access.issue_activation(holder=wallet.holder, actor=request.user)
        body = AccountOut(wallets.find_wallet(wallet.number)).data
        if issued is not None:
            body.update(PortalActivationOut(issued).data)
        return Response(body, status=status.HTTP_201_CREATED)


class PortalActivationCreate(APIView):
    """A new portal activation code for a holder whose wallet has no login yet (the old code stops working)."""

    permission_classes = [HasRole.of(Role.AGENT, Role.ADMIN)]

    @extend_schema(
        request=None,
        responses={201: ReissuedActivationOut},
        summary="Issue a new portal activation code",
        description="For a holder without a portal login (lost, expired or locked code). Any earlier code stops "
        "working. 409 `already_exists` when the holder already has a login.",
    )
    def post(self, request: Request, number: str) -> Response:
        wallet = wallets.find_wallet(number)
        issued = portal_access.issue_activation(holder=wallet.holder, actor=request.user)
        body = ReissuedActivationOut({"account": wallet.number, "code": issued.code, "expires_at": issued.expires_at})
        return Response(body.data, status=status.HTTP_201_CREATED)


class AccountDetail(APIView):
    @extend_schema(responses=AccountOut, summary="An account's balance and status")
    def get(self, request: Request, number: str) -> Response:
        wallet = wallet_for(request, number, staff_roles=(Role.AGENT, Role.FINANCE))
        return Response(AccountOut(wallet).data)


class _WalletTransition(APIView):
    permission_classes = [HasRole.of(Role.FINANCE, Role.ADMIN)]
    action = ""

    @extend_schema(request=WalletStatusIn, responses=AccountOut)
    def post(self, request: Request, number: str) -> Response:
        data = WalletStatusIn(data=request.data)
        data.is_valid(raise_exception=True)
        wallet = wallets.find_wallet(number)
        reason = data.validated_data["reason"]
        if self.action == "close":
            wallets.close_wallet(
                wallet=wallet, actor=request.user, reason=reason, idempotency_key=idempotency_key(request)
            )
        else:
            getattr(wallets, f"{self.action}_wallet")(wallet=wallet, actor=request.user, reason=reason)
        return Response(AccountOut(wallets.find_wallet(number)).data)


class FreezeAccount(_WalletTransition):
    action = "freeze"


class UnfreezeAccount(_WalletTransition):
    action = "unfreeze"


class CloseAccount(_WalletTransition):
    """Close an account; a remaining balance is paid out first (needs an Idempotency-Key)."""

    action = "close"


class NewestFirst(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class AccountTransactions(ListAPIView):
    serializer_class = TransactionOut
    pagination_class = NewestFirst

    def get_queryset(self):
        wallet = wallet_for(self.request, self.kwargs["number"], staff_roles=(Role.FINANCE,))
        return Posting.objects.filter(account=wallet.account).select_related("entry")

    def get_paginated_response(self, data):
        return Response(
            {"results": data, "next": self.paginator.get_next_link(), "previous": self.paginator.get_previous_link()}
        )


class ServiceList(APIView):
    @extend_schema(responses=ServiceOut(many=True), summary="The payable municipal services")
    def get(self, request: Request) -> Response:
        return Response(ServiceOut(Service.objects.filter(is_active=True), many=True).data)


def _payment_or_404(payment_id: str, *, for_refund: bool = False) -> Payment:
    related = ["wallet", "service", "wallet__holder"]
    if for_refund:
        related += ["wallet__account", "service__revenue_account", "entry"]
    payment = payments.with_refunded(Payment.objects.select_related(*related)).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


class PaymentCreate(APIView):
    permission_classes = [HasRole.of(Role.SERVICE, Role.CUSTOMER)]

    @extend_schema(
        request=PaymentIn,
        responses={201: PaymentOut},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Pay a municipal fee from an account",
        description="`total = amount + fee` leaves the account; `fee` is the fixed fee in force at that moment. "
        "A bill (service + bill_reference) is paid once unless `instalment` is true.",
    )
    def post(self, request: Request) -> Response:
        data = PaymentIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        key = idempotency_key(request)
        wallet = wallet_for(request, fields["account"], staff_roles=(Role.SERVICE,))
        service = payments.service_by_code(fields["service"])
        if service is None:
            raise InvalidRequest(f"Unknown service {fields['service']!r}: see /api/v1/services/.", field="service")
        payment = payments.pay_fee(
            wallet=wallet,
            service=service,
            bill_reference=fields["bill_reference"],
            amount=fields["amount"],
            instalment=fields["instalment"],
            actor=request.user,
            idempotency_key=key,
            scope=idempotency_scope(request),
        )
        return Response(PaymentOut(payment).data, status=status.HTTP_201_CREATED)


class PaymentDetail(APIView):
    @extend_schema(responses=PaymentOut, summary="A payment and how much of it was refunded")
    def get(self, request: Request, payment_id: str) -> Response:
        payment = _payment_or_404(payment_id)
        wallet_for(request, payment.wallet.number, staff_roles=(Role.SERVICE, Role.FINANCE, Role.AGENT))
        return Response(PaymentOut(payment).data)


class RefundCreate(APIView):
    permission_classes = [HasRole.of(Role.FINANCE)]

    @extend_schema(
        request=RefundIn,
        responses={201: RefundOut},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Refund a payment",
        description="`amount` is at most the payment's amount less what was already refunded. The refund that "
        "brings the refunded sum to the whole amount also returns the fee (a full refund); more is 422 "
        "`already_refunded`.",
    )
    def post(self, request: Request, payment_id: str) -> Response:
        data = RefundIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = idempotency_key(request)
        payment = _payment_or_404(payment_id, for_refund=True)
        refund = payments.refund_payment(
            payment=payment,
            amount=data.validated_data["amount"],
            reason=data.validated_data["reason"],
            actor=request.user,
            idempotency_key=key,
            scope=idempotency_scope(request),
        )
        return Response(RefundOut(refund).data, status=status.HTTP_201_CREATED)
