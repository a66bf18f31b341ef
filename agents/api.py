"""The agent network's HTTP endpoints: offices, cashier sessions and cash top-ups (receipts: reports.api).

An agent acts only for its own office; views find the caller's cashier record and call one service.
"""

from __future__ import annotations

import datetime as dt
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from erial.api import HasRole, idempotency_key, idempotency_scope
from erial.errors import Forbidden, InvalidRequest, NotFound, SessionClosed
from erial.roles import Role, has_role
from ledger.api import IDEMPOTENCY_HEADER
from ledger.businessday import today
from ledger.selectors import balance
from ledger.wallets import find_wallet

from . import selectors, services
from .models import Cashier, CashierSession, CashTopup, Office
from .serializers import (
    CashTopupIn,
    CashTopupOut,
    OfficeIn,
    OfficeOut,
    ReasonIn,
    SessionCloseIn,
    SessionOpenIn,
    SessionOut,
)


def cashier_of(request: Request) -> Cashier:
    cashier = Cashier.objects.select_related("office__cash_account", "office__commission_account").filter(
        user=request.user
    )
    cashier = cashier.first()
    if cashier is None:
        raise Forbidden("You are not a cashier of any office.")
    return cashier


def office_or_404(code: str) -> Office:
    office = Office.objects.select_related("cash_account", "commission_account").filter(code=code).first()
    if office is None:
        raise NotFound(f"No office {code}.")
    return office


class OfficeCreate(APIView):
    permission_classes = [HasRole.of(Role.ADMIN)]

    @extend_schema(request=OfficeIn, responses={201: OfficeOut}, summary="Register an office (status onboarding)")
    def post(self, request: Request) -> Response:
        data = OfficeIn(data=request.data)
        data.is_valid(raise_exception=True)
        office = services.create_office(actor=request.user, **data.validated_data)
        return Response(OfficeOut(office).data, status=status.HTTP_201_CREATED)


class OfficeDetail(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="An office, its status and its float or drawer")
    def get(self, request: Request, code: str) -> Response:
        # Checked on the code before the lookup: an agent learns nothing of other offices, not even whether a
        # code exists (403 either way).
        own = (
            has_role(request.user, Role.AGENT) and Cashier.objects.filter(user=request.user, office__code=code).exists()
        )
        if not (own or has_role(request.user, Role.ADMIN, Role.FINANCE)):
            raise Forbidden("An agent sees only its own office.")
        office = office_or_404(code)
        data = OfficeOut(office).data
        cash = office.cash_account.cached_balance
        data["float" if office.is_external else "cash_drawer"] = f"{cash.balance:.3f}"
        if office.is_external:
            data["credit_limit"] = f"{-(cash.floor or 0):.3f}"
            data["commission_payable"] = f"{balance(office.commission_account):.3f}"
        return Response(data)


class _OfficeTransition(APIView):
    permission_classes = [HasRole.of(Role.ADMIN)]
    action = ""

    @extend_schema(request=ReasonIn, responses=OfficeOut)
    def post(self, request: Request, code: str) -> Response:
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        office = getattr(services, f"{self.action}_office")(
            office=office_or_404(code), actor=request.user, reason=data.validated_data["reason"] or self.action
        )
        return Response({"code": office.code, "status": office.status})


class ActivateOffice(_OfficeTransition):
    action = "activate"


class SuspendOffice(_OfficeTransition):
    action = "suspend"


class ReinstateOffice(_OfficeTransition):
    action = "reinstate"


class TerminateOffice(_OfficeTransition):
    action = "terminate"


#: The day reports (``day-report/`` here, ``day-report.pdf`` in reports.office_api) take the business day as
#: ``day``, as the README and the reconciliation report name it; ``date``, the name the JSON report first took,
#: stays an alias so that existing clients keep working. Either report takes either name.
DAY, DAY_ALIAS = "day", "date"
DAY_REPORT_PARAMETERS = [
    OpenApiParameter(DAY, OpenApiTypes.DATE, description="Business day (Muscat), up to today; default today"),
    OpenApiParameter(DAY_ALIAS, OpenApiTypes.DATE, description="The same as day (an older name, still accepted)"),
]
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_report_day(request: Request) -> dt.date:
    """The business day a day report is asked for: ``?day=YYYY-MM-DD`` or its alias ``?date=``; today when
    neither is given. Anything else is one 400 ``invalid_request`` naming the parameter: another parameter (a
    typo never silently becomes today), a malformed day, one given twice, ``day`` and ``date`` naming different
    days, or a day that has not begun."""
    unknown = sorted(set(request.query_params) - {DAY, DAY_ALIAS})
    if unknown:
        raise InvalidRequest(
            f"Unknown parameter(s) {', '.join(unknown)}: only {DAY} (or its alias {DAY_ALIAS}).", field=unknown[0]
        )
    asked: dict[str, dt.date] = {}
    for name in (DAY, DAY_ALIAS):
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise InvalidRequest(f"{name} is given {len(values)} times: give one day.", field=name)
        if values:
            asked[name] = _iso_day(values[0], name)
    if len(set(asked.values())) > 1:
        raise InvalidRequest(f"{DAY} and {DAY_ALIAS} name different days: give one.", field=DAY_ALIAS)
    name, day = next(iter(asked.items()), (DAY, today()))
    if day > today():
        raise InvalidRequest(f"{name} {day} has not happened yet: a day report covers days up to today.", field=name)
    return day


def _iso_day(raw: str, name: str) -> dt.date:
    try:
        if _ISO_DAY.fullmatch(raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass  # 2025-02-30: the right shape, not a day
    raise InvalidRequest(f"{name} must be a date like 2025-03-01 (YYYY-MM-DD), not {raw!r}.", field=name)


class OfficeDayReport(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=DAY_REPORT_PARAMETERS,
        summary="An office's business day: sessions, top-ups, voids, commission",
    )
    def get(self, request: Request, code: str) -> Response:
        own = Cashier.objects.filter(user=request.user, office__code=code, is_supervisor=True).exists()
        if not (own or has_role(request.user, Role.ADMIN, Role.FINANCE)):  # before the lookup, as OfficeDetail
            raise Forbidden("The day report is for the office's supervisor and finance.")
        office = office_or_404(code)
        return Response(selectors.office_day_report(office, day_report_day(request)))


class SessionOpen(APIView):
    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(request=SessionOpenIn, responses={201: SessionOut}, summary="Open a cashier session")
    def post(self, request: Request) -> Response:
        data = SessionOpenIn(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.open_session(cashier=cashier_of(request), **data.validated_data)
        return Response(SessionOut(session).data, status=status.HTTP_201_CREATED)


class SessionClose(APIView):
    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(request=SessionCloseIn, responses=SessionOut, summary="Count the cash and close the session")
    def post(self, request: Request, session_id: str) -> Response:
        data = SessionCloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        session = CashierSession.objects.filter(pk=session_id, cashier__user=request.user).first()
        if session is None:
            raise NotFound("No such session of yours.")
        session = services.close_session(
            session=session,
            counted_cash=data.validated_data["counted_cash"],
            note=data.validated_data["note"],
            actor=request.user,
        )
        return Response(SessionOut(session).data)


class CashTopupCreate(APIView):
    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(
        request=CashTopupIn,
        responses={201: CashTopupOut},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Top up an account with cash at the counter (needs an open session)",
    )
    def post(self, request: Request) -> Response:
        data = CashTopupIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = idempotency_key(request)
        session = selectors.open_session_for(request.user)  # cashier, office and session in one query
        if session is None:
            cashier_of(request)  # not a cashier at all: forbidden, before "no session"
            raise SessionClosed("Open a cashier session before taking cash.")
        topup = services.record_cash_topup(
            session=session,
            wallet=find_wallet(data.validated_data["account"]),
            amount=data.validated_data["amount"],
            actor=request.user,
            idempotency_key=key,
            scope=idempotency_scope(request),
        )
        return Response(CashTopupOut(topup).data, status=status.HTTP_201_CREATED)


class CashTopupVoid(APIView):
    permission_classes = [HasRole.of(Role.AGENT)]

    @extend_schema(
        request=ReasonIn,
        responses=CashTopupOut,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Void a top-up within the session, while the account still holds the money",
    )
    def post(self, request: Request, topup_id: str) -> Response:
        data = ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = idempotency_key(request)
        topup = (
            CashTopup.objects.select_related("wallet", "office", "entry")
            .filter(pk=topup_id, office__cashiers__user=request.user)
            .first()
        )
        if topup is None:
            raise NotFound("No such top-up at your office.")
        topup = services.void_cash_topup(
            topup=topup,
            actor=request.user,
            reason=data.validated_data["reason"] or "Voided at the counter",
            idempotency_key=key,
        )
        return Response(CashTopupOut(topup).data)
