"""The system chart of accounts: codes the services refer to. The rows are created by migration 0003."""

from __future__ import annotations

from enum import StrEnum


class SystemAccount(StrEnum):
    BANK = "bank"
    BANK_CLEARING = "bank_clearing"
    GATEWAY_CLEARING = "gateway_clearing"
    SUSPENSE = "suspense"
    FEE_INCOME = "fee_income"
    CASH_OVER_SHORT = "cash_over_short"
    COMMISSION_EXPENSE = "commission_expense"
    GATEWAY_FEE_EXPENSE = "gateway_fee_expense"
    REVENUE_LEASE_RENEWAL = "revenue.lease_renewal"
    REVENUE_PARKING_FINE = "revenue.parking_fine"
    REVENUE_PARKING_PERMIT = "revenue.parking_permit"
    REVENUE_MUNICIPAL_LICENCE = "revenue.municipal_licence"
    REVENUE_BUILDING_PERMIT = "revenue.building_permit"


#: (code, name, kind). Revenue and fee income are hot accounts: no cached balance, no floor, no lock.
SYSTEM_CHART: list[tuple[str, str, str]] = [
    ("bank", "Bank: municipality account at the partner bank", "asset"),
    ("bank_clearing", "Bank clearing: online top-ups awaiting the bank statement", "asset"),
    ("gateway_clearing", "Card gateway clearing: awaiting settlement", "asset"),
    ("suspense", "Suspense: unmatched statement lines", "liability"),
    ("fee_income", "Service fee income", "income"),
    ("cash_over_short", "Cash over/short", "expense"),
    ("commission_expense", "Agent commission expense", "expense"),
    ("gateway_fee_expense", "Card gateway fee expense", "expense"),
    ("revenue.lease_renewal", "Municipal revenue: lease-contract renewals", "income"),
    ("revenue.parking_fine", "Municipal revenue: parking fines", "income"),
    ("revenue.parking_permit", "Municipal revenue: parking permits", "income"),
    ("revenue.municipal_licence", "Municipal revenue: municipal licence renewals", "income"),
    ("revenue.building_permit", "Municipal revenue: building permits", "income"),
]


def ensure_system_chart(account_model=None) -> None:
    """Create any missing system account (the migration calls this with its historical model)."""
    if account_model is None:
        from .models import Account as account_model
    for code, name, kind in SYSTEM_CHART:
        account_model.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "owner_kind": "system", "tracks_balance": False}
        )


def revenue_account_code(service_code: str) -> str:
    """The municipal revenue account that a payable service credits."""
    return f"revenue.{service_code}"
