"""The ledger's models, by subject: the double-entry core, customers' wallets, fee payments."""

from .access import PortalActivation
from .core import (
    AMOUNT,
    NORMAL_SIGN,
    Account,
    AccountBalance,
    AccountKind,
    BalanceCheckpoint,
    DaySeal,
    Entry,
    EntryKind,
    IdempotencyKey,
    OwnerKind,
    Posting,
)
from .customers import Holder, HolderType, OpeningChannel, Wallet, WalletStatus
from .payments import FeeRate, Payment, Refund, Service

__all__ = [
    "AMOUNT",
    "NORMAL_SIGN",
    "Account",
    "AccountBalance",
    "AccountKind",
    "BalanceCheckpoint",
    "DaySeal",
    "Entry",
    "EntryKind",
    "FeeRate",
    "Holder",
    "HolderType",
    "IdempotencyKey",
    "OpeningChannel",
    "OwnerKind",
    "Payment",
    "PortalActivation",
    "Posting",
    "Refund",
    "Service",
    "Wallet",
    "WalletStatus",
]
