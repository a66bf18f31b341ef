"""Holders (citizens and companies) and their wallets: the customer side of the ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from .core import Account


class HolderType(models.TextChoices):
    INDIVIDUAL = "individual", "Individual (civil ID)"
    COMPANY = "company", "Company (commercial registration)"


class Holder(models.Model):
    """A citizen (civil ID) or a company (commercial registration). One holder has one wallet."""

    holder_type = models.CharField(max_length=16, choices=HolderType.choices)
    #: Civil ID number for individuals, commercial registration number for companies.
    national_id = models.CharField(max_length=20)
    name_en = models.CharField(max_length=200, blank=True, default="")
    name_ar = models.CharField(max_length=200, blank=True, default="")
    phone = models.CharField(max_length=20)
    email = models.EmailField(blank=True, default="")
    #: The portal login of the holder, when they have one.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="holder"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("holder")
        verbose_name_plural = _("holders")
        constraints = [
            models.UniqueConstraint(fields=["holder_type", "national_id"], name="ledger_holder_unique_id"),
            models.CheckConstraint(condition=~Q(name_en="") | ~Q(name_ar=""), name="ledger_holder_has_name"),
        ]
        indexes = [models.Index(fields=["phone"], name="ledger_holder_phone")]

    def __str__(self) -> str:
        return self.name_en or self.name_ar

    @property
    def display_name(self) -> str:
        return " · ".join(name for name in (self.name_en, self.name_ar) if name)


class WalletStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class OpeningChannel(models.TextChoices):
    ONLINE = "online", "Online (self-registration)"
    OFFICE = "office", "At an office"


class Wallet(models.Model):
    """A holder's prepaid e-Rial account. Its money lives in ``account`` (a liability with floor 0).

    Lifecycle: active <-> frozen (by finance: no debits, no credits); active or frozen -> closed (at zero
    balance, after any remaining balance was paid out). Every transition is kept in ``history`` with who
    and why.
    """

    number = models.CharField(max_length=8, unique=True)
    holder = models.OneToOneField(Holder, on_delete=models.PROTECT, related_name="wallet")
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="wallet")
    status = FSMField(default=WalletStatus.ACTIVE, choices=WalletStatus.choices, protected=True)
    channel = models.CharField(max_length=8, choices=OpeningChannel.choices)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in WalletStatus]), name="ledger_wallet_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.holder}"

    @transition(field=status, source=WalletStatus.ACTIVE, target=WalletStatus.FROZEN)
    def freeze(self) -> None:
        """Finance blocks the wallet: no debits and no credits until unfrozen."""

    @transition(field=status, source=WalletStatus.FROZEN, target=WalletStatus.ACTIVE)
    def unfreeze(self) -> None:
        """Finance lifts the block."""

    @transition(field=status, source=[WalletStatus.ACTIVE, WalletStatus.FROZEN], target=WalletStatus.CLOSED)
    def close(self) -> None:
        """Closed for good, once the balance is zero (paid out if need be)."""
