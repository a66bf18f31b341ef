"""Agent-network factories: offices with their float, cashiers, open sessions, wallets to top up."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from agents import services
from agents.models import CommissionRule, Limit, Office
from erial.roles import Role, grant
from tests.api.conftest import client_for, open_wallet

__all__ = ["client_for", "open_wallet"]


def make_office(
    kind: str = "external",
    *,
    float_: str = "0.000",
    credit_limit: str = "0.000",
    active: bool = True,
    code: str | None = None,
) -> Office:
    code = code or f"OF{uuid.uuid4().hex[:6].upper()}"
    office = services.create_office(
        code=code,
        name_en=f"Office {code}",
        name_ar=f"مكتب {code}",
        kind=kind,
        actor=None,
        wilayat="Seeb",
        credit_limit=Decimal(credit_limit) if kind == "external" else None,
    )
    if active:
        office = services.activate_office(office=office, actor=None)
    if Decimal(float_):
        admin = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_user(
            f"fin-{uuid.uuid4().hex[:6]}"
        )
        services.record_float_deposit(
            office=office,
            amount=Decimal(float_),
            actor=admin,
            idempotency_key=uuid.uuid4().hex,
            bank_reference=f"DEP-{code}",
        )
    return Office.objects.select_related("cash_account", "commission_account").get(pk=office.pk)


def make_cashier(office: Office, *, supervisor: bool = False):
    user = get_user_model().objects.create_user(f"cashier-{uuid.uuid4().hex[:8]}")
    grant(user, Role.AGENT)
    return services.add_cashier(office=office, user=user, supervisor=supervisor)


def open_session(office: Office, opening: str = "20.000"):
    cashier = make_cashier(office)
    return services.open_session(cashier=cashier, opening_cash=Decimal(opening))


def topup(session, wallet, amount: str, key: str | None = None):
    return services.record_cash_topup(
        session=session,
        wallet=wallet,
        amount=Decimal(amount),
        actor=session.cashier.user,
        idempotency_key=key or uuid.uuid4().hex,
        scope="test",
    )


def set_limit(kind: str, amount: str, office: Office | None = None) -> Limit:
    return Limit.objects.create(
        kind=kind, amount=Decimal(amount), office=office, effective_from=timezone.now() - timezone.timedelta(seconds=1)
    )


def set_commission(
    kind: str, rate: str, minimum: str = "0.000", maximum: str | None = None, office: Office | None = None
) -> CommissionRule:
    return CommissionRule.objects.create(
        kind=kind,
        rate=Decimal(rate),
        minimum=Decimal(minimum),
        maximum=None if maximum is None else Decimal(maximum),
        office=office,
        effective_from=timezone.now() - timezone.timedelta(seconds=1),
    )


@pytest.fixture
def external_office():
    return make_office("external", float_="100.000")


@pytest.fixture
def internal_office():
    return make_office("internal")
