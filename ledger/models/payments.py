"""The payable municipal services, the fixed fee schedule, fee payments and their refunds."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..ids import uuid7
from ..receipts import new_receipt_number
from .core import AMOUNT, Account, Entry
from .customers import Wallet


class Service(models.Model):
    """A municipal service that can be paid from a wallet, and the revenue account it credits."""

    code = models.SlugField(max_length=40, unique=True)
    name_en = models.CharField(max_length=200)
    name_ar = models.CharField(max_length=200)
    revenue_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name_en})"


class FeeRate(models.Model):
    """The fixed service fee charged per payment, in force from ``effective_from`` until the next row.

    Rows are never edited: a new fee is a new row, so the fee of every past payment stays explainable.
    """

    effective_from = models.DateTimeField(unique=True)
    fee = models.DecimalField(**AMOUNT)
    note = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fee rate")
        verbose_name_plural = _("fee rates")
        ordering = ["-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(fee__gte=0), name="ledger_feerate_not_negative")]

    def __str__(self) -> str:
        return f"{self.fee} OMR from {self.effective_from:%Y-%m-%d %H:%M}"


class Payment(models.Model):
    """A municipal fee paid from a wallet: ``amount`` to the service's revenue plus the fixed ``fee``."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    receipt_number = models.CharField(max_length=16, unique=True, default=new_receipt_number)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="payments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="payments")
    bill_reference = models.CharField(max_length=64)
    #: A separate instalment of a bill that may be paid more than once.
    is_instalment = models.BooleanField(default=False)
    amount = models.DecimalField(**AMOUNT)
    fee = models.DecimalField(**AMOUNT)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="payment")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    #: When refunds gave all of it back (fee included): the bill counts as unpaid again and may be paid anew.
    refunded_in_full_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fee payment")
        verbose_name_plural = _("fee payments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "bill_reference"],
                condition=Q(is_instalment=False, refunded_in_full_at__isnull=True),
                name="ledger_payment_bill_once",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(fee__gte=0), name="ledger_payment_amounts"),
        ]
        indexes = [
            # The counter finds a lost receipt by service and bill reference in any letter case (iexact).
            models.Index("service", Upper("bill_reference"), name="ledger_payment_bill_upper"),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} {self.bill_reference} {self.amount}"

    @property
    def total(self) -> Decimal:
        return self.amount + self.fee


class Refund(models.Model):
    """Money returned on a payment by finance; the fee comes back only with the refund that completes it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    receipt_number = models.CharField(max_length=16, unique=True, default=new_receipt_number)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**AMOUNT)
    fee_returned = models.DecimalField(**AMOUNT)
    reason = models.CharField(max_length=255)
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="refund")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_refund_positive")]

    def __str__(self) -> str:
        return f"refund {self.amount} of {self.payment_id}"
