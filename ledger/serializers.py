"""What the ledger's API endpoints read and write (see ../shared/api.md). Parsing only: no business logic."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from erial.api import AmountField, SignedAmountField, StrictSerializer
from erial.money import format_amount

from .models import HolderType, Payment, Refund, Service, Wallet


class OpenAccountIn(StrictSerializer):
    holder_type = serializers.ChoiceField(choices=HolderType.values)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    name_ar = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    national_id = serializers.CharField(max_length=20)
    phone = serializers.CharField(max_length=20)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class AccountOut(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.SerializerMethodField()
    status = serializers.CharField()
    balance = serializers.SerializerMethodField()
    available_balance = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    def get_name(self, wallet: Wallet) -> str:
        return wallet.holder.display_name

    def get_balance(self, wallet: Wallet) -> str:
        return format_amount(wallet.account.cached_balance.balance)

    def get_available_balance(self, wallet: Wallet) -> str:
        """What can be spent now: nothing while the wallet is frozen or closed."""
        cached = wallet.account.cached_balance
        if wallet.status != "active":
            return format_amount(Decimal("0"))
        return format_amount(cached.balance - (cached.floor or 0))

    def get_currency(self, wallet: Wallet) -> str:
        return "OMR"


class WalletStatusIn(StrictSerializer):
    reason = serializers.CharField(max_length=255)


class TransactionOut(serializers.Serializer):
    """One movement on a wallet, from the holder's side: credits positive, debits negative."""

    id = serializers.UUIDField(source="entry_id")
    kind = serializers.CharField(source="entry.kind")
    amount = serializers.SerializerMethodField()
    balance_after = SignedAmountField()
    created_at = serializers.DateTimeField()
    description = serializers.CharField(source="entry.memo")

    def get_amount(self, posting) -> str:
        return format_amount(-posting.amount.amount)


class ServiceOut(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["code", "name_en", "name_ar"]


class PaymentIn(StrictSerializer):
    account = serializers.CharField(max_length=32)
    service = serializers.CharField(max_length=40)
    bill_reference = serializers.CharField(max_length=64)
    amount = AmountField()
    instalment = serializers.BooleanField(required=False, default=False)


class PaymentOut(serializers.Serializer):
    """A payment as the API shows it. Fields declared, not derived from the model: a ModelSerializer rebuilds
    its fields from the model on every request, a third of an API payment's serializing time."""

    id = serializers.UUIDField(read_only=True)
    #: What the payer keeps: any office finds and reprints the receipt by it (GET /api/v1/receipts/{number}/).
    receipt_number = serializers.CharField(read_only=True)
    account = serializers.CharField(source="wallet.number", read_only=True)
    service = serializers.CharField(source="service.code", read_only=True)
    bill_reference = serializers.CharField(read_only=True)
    instalment = serializers.BooleanField(source="is_instalment", read_only=True)
    amount = AmountField(read_only=True)
    fee = AmountField(read_only=True)
    total = AmountField(read_only=True)
    refunded = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def get_refunded(self, payment: Payment) -> str:
        # Annotated by the query (or set by the service on a new payment): never one query per row.
        return format_amount(payment.refunded_amount)


class RefundIn(StrictSerializer):
    amount = AmountField()
    reason = serializers.CharField(max_length=255)


class RefundOut(serializers.ModelSerializer):
    payment = serializers.UUIDField(source="payment_id")
    amount = AmountField()
    fee_returned = AmountField()

    class Meta:
        model = Refund
        fields = ["id", "receipt_number", "payment", "amount", "fee_returned", "reason", "created_at"]


class PortalActivationOut(serializers.Serializer):
    """A portal activation code, shown this once: the holder makes their own login with it at /portal/activate/."""

    activation_code = serializers.CharField(
        source="code", help_text="One-time code for the holder's portal login, e.g. ABCD-EFGH-JK. Shown once."
    )
    activation_expires_at = serializers.DateTimeField(source="expires_at")


class AccountOpenedOut(AccountOut):
    """An opened account; opened at an office (by an agent or admin), it also carries the holder's activation
    code. A customer's self-registration already has a login and gets none."""

    activation_code = serializers.CharField(
        required=False, help_text="Only when opened by an agent or admin: the holder's one-time portal code."
    )
    activation_expires_at = serializers.DateTimeField(required=False)


class ReissuedActivationOut(PortalActivationOut):
    account = serializers.CharField()
