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


def revenue_account_code(service_code: str) -> str:
    """The municipal revenue account that a payable service credits."""
    return f"revenue.{service_code}"
