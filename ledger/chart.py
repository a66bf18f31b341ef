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
    PAYOUTS_PAYABLE = "payouts_payable"
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
    ("payouts_payable", "Payouts payable: balances of closed wallets owed to their holders", "liability"),
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


#: The payable municipal services: (code, English name, Arabic name). Each credits revenue.<code>.
SERVICES: list[tuple[str, str, str]] = [
    ("lease_renewal", "Lease-contract renewal", "تجديد عقد الإيجار"),
    ("parking_fine", "Parking fine", "مخالفة المواقف"),
    ("parking_permit", "Parking permit", "تصريح المواقف"),
    ("municipal_licence", "Municipal licence renewal", "تجديد الترخيص البلدي"),
    ("building_permit", "Building permit", "رخصة البناء"),
]


def ensure_services(account_model=None, service_model=None, fee_model=None) -> None:
    """Create any missing payable service, and the launch fee (0.100 OMR) if no fee was ever set."""
    import datetime as dt
    from decimal import Decimal

    if account_model is None:
        from .models import Account as account_model
        from .models import FeeRate as fee_model
        from .models import Service as service_model
    for code, name_en, name_ar in SERVICES:
        service_model.objects.get_or_create(
            code=code,
            defaults={
                "name_en": name_en,
                "name_ar": name_ar,
                "revenue_account": account_model.objects.get(code=revenue_account_code(code)),
            },
        )
    if not fee_model.objects.exists():
        fee_model.objects.create(
            effective_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), fee=Decimal("0.100"), note="Launch fee"
        )


def revenue_account_code(service_code: str) -> str:
    """The municipal revenue account that a payable service credits."""
    return f"revenue.{service_code}"
