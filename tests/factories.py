"""Factories for tests: accounts and movements in the business's words. No shared mutable state."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

from ledger import services
from ledger.chart import SystemAccount
from ledger.models import Account, AccountKind, Entry, EntryKind, OwnerKind

_numbers = itertools.count(1)


def D(value: str) -> Decimal:
    return Decimal(value)


def key() -> str:
    return uuid.uuid4().hex


def system(code: SystemAccount | str) -> Account:
    return Account.objects.get(code=str(code))


def wallet(balance: str | Decimal = "0.000", *, floor: str | None = "0.000") -> Account:
    """A customer wallet (liability, floor 0), topped up from the bank to ``balance``."""
    account = services.open_account(
        code=f"W{next(_numbers):06d}-{uuid.uuid4().hex[:4]}",
        name="Test wallet",
        kind=AccountKind.LIABILITY,
        owner_kind=OwnerKind.WALLET,
        tracks_balance=True,
        floor=None if floor is None else Decimal(floor),
    )
    if Decimal(balance):
        top_up(account, balance)
    return account


def agent_float(*, credit_limit: str = "0.000", balance: str = "0.000") -> Account:
    """An external agent's float (liability to the agent); the credit limit is a negative floor."""
    account = services.open_account(
        code=f"F{next(_numbers):06d}-{uuid.uuid4().hex[:4]}",
        name="Test agent float",
        kind=AccountKind.LIABILITY,
        owner_kind=OwnerKind.OFFICE,
        tracks_balance=True,
        floor=-Decimal(credit_limit),
    )
    if Decimal(balance):
        services.post(
            kind=EntryKind.FLOAT_DEPOSIT,
            legs=[
                services.Leg(system(SystemAccount.BANK), Decimal(balance)),
                services.Leg(account, -Decimal(balance)),
            ],
            idempotency_key=key(),
            scope="test",
        )
    return account


def top_up(account: Account, amount: str | Decimal) -> Entry:
    amount = Decimal(amount)
    return services.post(
        kind=EntryKind.CASH_TOPUP,
        legs=[services.Leg(system(SystemAccount.BANK_CLEARING), amount), services.Leg(account, -amount)],
        idempotency_key=key(),
        scope="test",
    )


def fee_payment_legs(
    account: Account, amount: str | Decimal, fee: str | Decimal = "0.100", service: str = "lease_renewal"
) -> list[services.Leg]:
    """wallet -(amount + fee) -> municipal revenue +amount, fee income +fee (debit +, credit -)."""
    amount, fee = Decimal(amount), Decimal(fee)
    return [
        services.Leg(account, amount + fee),
        services.Leg(system(f"revenue.{service}"), -amount),
        services.Leg(system(SystemAccount.FEE_INCOME), -fee),
    ]


def pay(
    account: Account,
    amount: str | Decimal,
    fee: str | Decimal = "0.100",
    *,
    idempotency_key: str | None = None,
    service: str = "lease_renewal",
) -> Entry:
    return services.post(
        kind=EntryKind.FEE_PAYMENT,
        legs=fee_payment_legs(account, amount, fee, service),
        idempotency_key=idempotency_key or key(),
        scope="test",
    )
