"""The ledger's data: accounts, journal entries, postings, cached balances, idempotency keys, seals.

The database enforces what it can (see migrations 0002): postings are non-zero with 3 places, entries sum
to zero per currency at commit (PostgreSQL), entries and postings are never updated or deleted, and a
cached balance never goes below its floor.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from ..ids import uuid7

AMOUNT = {"max_digits": 18, "decimal_places": 3}


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"
    EQUITY = "equity", "Equity"


#: +1 where a debit increases the balance (assets, expenses), -1 where a credit does.
NORMAL_SIGN = {
    AccountKind.ASSET: 1,
    AccountKind.EXPENSE: 1,
    AccountKind.LIABILITY: -1,
    AccountKind.INCOME: -1,
    AccountKind.EQUITY: -1,
}


class OwnerKind(models.TextChoices):
    SYSTEM = "system", "System"
    WALLET = "wallet", "Customer wallet"
    OFFICE = "office", "Office"


class EntryKind(models.TextChoices):
    CASH_TOPUP = "cash_topup", "Cash top-up"
    ONLINE_TOPUP = "online_topup", "Online top-up"
    FEE_PAYMENT = "fee_payment", "Fee payment"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Reversal"
    SETTLEMENT = "settlement", "Settlement"
    FLOAT_DEPOSIT = "float_deposit", "Agent float deposit"
    CASH_DEPOSIT = "cash_deposit", "Office cash deposit"
    COMMISSION = "commission", "Agent commission"
    PAYOUT = "payout", "Balance payout"
    ADJUSTMENT = "adjustment", "Adjustment"


class Account(models.Model):
    """One account of the chart. Its balance is ``NORMAL_SIGN[kind] * sum(postings)``."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    currency = models.CharField(max_length=3, default="OMR")
    owner_kind = models.CharField(max_length=16, choices=OwnerKind.choices, default=OwnerKind.SYSTEM)
    owner_ref = models.CharField(max_length=64, blank=True, default="")
    #: A cached balance row is kept, locked and updated on each posting. Hot accounts (fee income,
    #: revenue) have no floor and do not track, so payments never queue on them.
    tracks_balance = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(currency="OMR"), name="ledger_account_currency_omr"),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in AccountKind]), name="ledger_account_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def normal_sign(self) -> int:
        return NORMAL_SIGN[AccountKind(self.kind)]


class AccountBalance(models.Model):
    """The cached balance of an account that tracks one (normal sign), and its floor.

    Updated only by ``ledger.services`` in the same transaction as the postings; ``verify_ledger``
    proves it equals the postings.
    """

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.PROTECT, related_name="cached_balance")
    balance = models.DecimalField(**AMOUNT, default=Decimal("0.000"))
    #: The lowest balance allowed (0 for a wallet, minus the credit limit for an agent float); NULL: none.
    floor = models.DecimalField(**AMOUNT, null=True, blank=True)
    #: False while the account is blocked (a frozen wallet): post() refuses any leg on it.
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")
        constraints = [
            models.CheckConstraint(
                condition=Q(floor__isnull=True) | Q(balance__gte=F("floor")),
                name="ledger_balance_above_floor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"


class Entry(models.Model):
    """A journal entry (transaction): postings that sum to zero. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=24, choices=EntryKind.choices)
    created_at = models.DateTimeField(db_index=True)
    #: The Asia/Muscat calendar day of ``created_at``: what seals and day reports group by.
    business_day = models.DateField(db_index=True)
    memo = models.CharField(max_length=255, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    #: The reference the outside world knows this movement by (an online top-up's reference, a deposit's
    #: bank reference, a settlement batch): what reconciliation matches statement lines on.
    reference = models.CharField(max_length=64, blank=True, default="", db_default="", db_index=True)

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in EntryKind]), name="ledger_entry_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class Posting(models.Model):
    """One leg of an entry: a signed amount (debit +, credit -) on one account."""

    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings", db_index=False)
    amount = MoneyField(**AMOUNT, default_currency="OMR", currency_choices=[("OMR", "Omani rial")])
    #: The account's balance (normal sign) right after this posting, for accounts that track one.
    balance_after = models.DecimalField(**AMOUNT, null=True, blank=True)
    #: Copy of the entry's time, so balance-as-of and statements scan one index.
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        indexes = [models.Index(fields=["account", "created_at"], name="ledger_posting_acct_time")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_posting_amount_nonzero"),
            models.CheckConstraint(condition=Q(amount=Round(F("amount"), 3)), name="ledger_posting_amount_3_places"),
            models.CheckConstraint(condition=Q(amount_currency="OMR"), name="ledger_posting_currency_omr"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"


class IdempotencyKey(models.Model):
    """A claimed idempotency key: what was asked (fingerprint) and what it produced (entry)."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    entry = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="ledger_idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class DaySeal(models.Model):
    """The hash-chain link for one business day: a digest of its entries and the previous seal."""

    business_day = models.DateField(primary_key=True)
    entry_count = models.PositiveIntegerField()
    posting_count = models.PositiveIntegerField()
    total_debits = models.DecimalField(**AMOUNT)
    previous_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, unique=True)
    sealed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("day seal")
        verbose_name_plural = _("day seals")
        ordering = ["business_day"]

    def __str__(self) -> str:
        return f"{self.business_day} {self.digest[:12]}"


class BalanceCheckpoint(models.Model):
    """An account's balance at the end of a sealed business day.

    Balances of accounts that do not cache one (the hot revenue and fee-income accounts) are read as the
    last checkpoint plus the postings since, so a read never sums the whole history.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="checkpoints")
    business_day = models.DateField()
    #: The first instant after the business day: postings at or after it are not included.
    until = models.DateTimeField()
    balance = models.DecimalField(**AMOUNT)

    class Meta:
        verbose_name = _("balance checkpoint")
        verbose_name_plural = _("balance checkpoints")
        constraints = [
            models.UniqueConstraint(fields=["account", "business_day"], name="ledger_checkpoint_account_day")
        ]
        indexes = [models.Index(fields=["account", "until"], name="ledger_checkpoint_acct_until")]

    def __str__(self) -> str:
        return f"{self.account_id}@{self.business_day}: {self.balance}"
