"""Reads of the agent network: receipts by number (top-ups, payments, refunds), the office day report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from erial.errors import NotFound
from erial.money import format_amount
from ledger.businessday import day_bounds
from ledger.models import Payment, Refund
from ledger.receipts import normalise_receipt_number

from .models import CashierSession, CashTopup, Office

ZERO = Decimal("0.000")


def _holder(wallet) -> dict[str, str]:
    return {"account": wallet.number, "holder_en": wallet.holder.name_en, "holder_ar": wallet.holder.name_ar}


def receipt(number: str) -> dict[str, Any]:
    """The receipt with this number, whatever made it, as the data printed on it."""
    number = normalise_receipt_number(number)
    topup = CashTopup.objects.select_related("wallet__holder", "office").filter(receipt_number=number).first()
    if topup:
        return {
            "receipt_number": number,
            "kind": "cash_topup",
            "created_at": topup.created_at,
            **_holder(topup.wallet),
            "amount": format_amount(topup.amount),
            "currency": "OMR",
            "office": topup.office.code,
            "office_en": topup.office.name_en,
            "office_ar": topup.office.name_ar,
            "voided": topup.is_voided,
            "owner_user_id": topup.wallet.holder.user_id,
        }
    payment = Payment.objects.select_related("wallet__holder", "service").filter(receipt_number=number).first()
    if payment:
        return {
            "receipt_number": number,
            "kind": "payment",
            "created_at": payment.created_at,
            **_holder(payment.wallet),
            "service": payment.service.code,
            "service_en": payment.service.name_en,
            "service_ar": payment.service.name_ar,
            "bill_reference": payment.bill_reference,
            "amount": format_amount(payment.amount),
            "fee": format_amount(payment.fee),
            "total": format_amount(payment.total),
            "currency": "OMR",
            "owner_user_id": payment.wallet.holder.user_id,
        }
    refund = (
        Refund.objects.select_related("payment__wallet__holder", "payment__service")
        .filter(receipt_number=number)
        .first()
    )
    if refund:
        return {
            "receipt_number": number,
            "kind": "refund",
            "created_at": refund.created_at,
            **_holder(refund.payment.wallet),
            "service": refund.payment.service.code,
            "service_en": refund.payment.service.name_en,
            "service_ar": refund.payment.service.name_ar,
            "bill_reference": refund.payment.bill_reference,
            "payment_receipt": refund.payment.receipt_number,
            "amount": format_amount(refund.amount),
            "fee_returned": format_amount(refund.fee_returned),
            "total": format_amount(refund.amount + refund.fee_returned),
            "currency": "OMR",
            "reason": refund.reason,
            "owner_user_id": refund.payment.wallet.holder.user_id,
        }
    raise NotFound(f"No receipt {number}.")


def office_day_report(office: Office, day: dt.date) -> dict[str, Any]:
    """One office's business day: sessions and their counts, top-ups, voids and commission."""
    start, end = day_bounds(day)
    topups = CashTopup.objects.filter(office=office, created_at__gte=start, created_at__lt=end)
    totals = topups.aggregate(
        kept_count=Count("id", filter=Q(void_entry__isnull=True)),
        kept_amount=Sum("amount", filter=Q(void_entry__isnull=True)),
        kept_commission=Sum("commission", filter=Q(void_entry__isnull=True)),
        voided_count=Count("id", filter=Q(void_entry__isnull=False)),
        voided_amount=Sum("amount", filter=Q(void_entry__isnull=False)),
    )
    sessions = CashierSession.objects.filter(office=office, business_day=day).select_related("cashier__user")
    return {
        "office": office.code,
        "business_day": day.isoformat(),
        "topups": {
            "count": totals["kept_count"],
            "amount": format_amount(totals["kept_amount"] or ZERO),
            "commission": format_amount(totals["kept_commission"] or ZERO),
        },
        "voids": {"count": totals["voided_count"], "amount": format_amount(totals["voided_amount"] or ZERO)},
        "sessions": [
            {
                "id": str(s.id),
                "cashier": s.cashier.user.get_username(),
                "status": s.status,
                "opening_cash": format_amount(s.opening_cash),
                **(
                    {
                        "expected_cash": format_amount(s.expected_cash),
                        "counted_cash": format_amount(s.counted_cash),
                        "difference": format_amount(s.difference),
                        "note": s.supervisor_note,
                    }
                    if s.status == "closed"
                    else {}
                ),
            }
            for s in sessions
        ],
    }


@dataclass(frozen=True)
class SessionSummary:
    """A cashier session as the counter shows it while it runs and once it is counted."""

    topups: list[CashTopup]
    kept_count: int
    kept_amount: Decimal
    voided_count: int
    voided_amount: Decimal
    #: Opening cash plus the top-ups not voided: the figure ``close_session`` compares the count with.
    expected_cash: Decimal


def session_summary(session: CashierSession) -> SessionSummary:
    """The session's top-ups (newest first, with their wallets and holders) and its running totals."""
    topups = list(session.topups.select_related("wallet__holder").order_by("-created_at"))
    kept = [topup for topup in topups if not topup.is_voided]
    voided = [topup for topup in topups if topup.is_voided]
    kept_amount = sum((topup.amount for topup in kept), ZERO)
    return SessionSummary(
        topups=topups,
        kept_count=len(kept),
        kept_amount=kept_amount,
        voided_count=len(voided),
        voided_amount=sum((topup.amount for topup in voided), ZERO),
        expected_cash=session.opening_cash + kept_amount,
    )
